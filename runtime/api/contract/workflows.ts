/**
 * The control API's Workflows methods (the Inspector's Workflows page):
 * the project's workflows, their instances, one instance's timeline of
 * steps, and the actions a user takes on an instance. Part of ControlApi
 * (contract.ts); the schemas parse what crosses a bridge.
 */
import { z } from "zod";
import type {
  InstanceDetail,
  InstanceSummary,
  StepAttempt,
  StepRecord,
  WorkflowSummary,
} from "../../workflows/records.ts";

import type { DataPoint } from "../../bindings/analytics-engine.ts";

export type { DataPoint, InstanceDetail, InstanceSummary, StepAttempt, StepRecord, WorkflowSummary };

const binding = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,99}$/, "a binding name");
const instanceId = z
  .string()
  .max(100)
  .regex(/^[a-zA-Z0-9_][a-zA-Z0-9-_]*$/, "an instance id: letters, digits, '-' and '_'");

export const workflowSchemas = {
  instances: z.object({ binding, limit: z.number().int().min(1).max(10_000).optional() }).strict(),
  instance: z.object({ binding, id: instanceId }).strict(),
  create: z.object({ binding, id: instanceId.optional(), params: z.unknown().optional() }).strict(),
  control: z
    .object({ binding, id: instanceId, action: z.enum(["pause", "resume", "terminate", "restart"]) })
    .strict(),
  event: z
    .object({ binding, id: instanceId, type: z.string().min(1).max(100), payload: z.unknown().optional() })
    .strict(),
  dataPoints: z
    .object({ binding: binding.optional(), limit: z.number().int().min(1).max(2000).optional() })
    .strict(),
} as const;

export type DataPointsQuery = z.infer<typeof workflowSchemas.dataPoints>;
export type WorkflowInstancesQuery = z.infer<typeof workflowSchemas.instances>;
export type WorkflowInstanceQuery = z.infer<typeof workflowSchemas.instance>;
export type WorkflowCreateSpec = z.infer<typeof workflowSchemas.create>;
export type WorkflowControlSpec = z.infer<typeof workflowSchemas.control>;
export type WorkflowEventSpec = z.infer<typeof workflowSchemas.event>;

export interface WorkflowControlApi {
  /** The project's workflows with their instances counted by status. */
  workflows(): Promise<WorkflowSummary[]>;
  /** A workflow's instances, newest first. */
  workflowInstances(q: WorkflowInstancesQuery): Promise<InstanceSummary[]>;
  /** One instance with its timeline of steps (attempts, durations, outputs, errors) and events; null when absent. */
  workflowInstance(q: WorkflowInstanceQuery): Promise<InstanceDetail | null>;
  /** Creates an instance (as `env.<binding>.create()` does); answers its id. */
  workflowCreate(spec: WorkflowCreateSpec): Promise<{ id: string }>;
  /** pause, resume, terminate or restart an instance; refused with workerd's error where workerd refuses. */
  workflowControl(spec: WorkflowControlSpec): Promise<void>;
  /** Sends an instance an event (as `instance.sendEvent()` does). */
  workflowEvent(spec: WorkflowEventSpec): Promise<void>;
  /** Data points written to Analytics Engine datasets (kept in memory, the last 2,000), newest first. */
  dataPoints(q?: DataPointsQuery): Promise<DataPoint[]>;
}

export const workflowCallSchemas = {
  workflows: z.tuple([]),
  workflowInstances: z.tuple([workflowSchemas.instances]),
  workflowInstance: z.tuple([workflowSchemas.instance]),
  workflowCreate: z.tuple([workflowSchemas.create]),
  workflowControl: z.tuple([workflowSchemas.control]),
  workflowEvent: z.tuple([workflowSchemas.event]),
  dataPoints: z.tuple([workflowSchemas.dataPoints.optional()]),
} as const;
