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

/** A workflow of one of the project's Workers (the project's own, or another given with `-c`). */
export interface WorkerWorkflowSummary extends WorkflowSummary {
  /** The Worker whose `workflows` block binds it (its instances are kept in that Worker's data). */
  worker: string;
}

const binding = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,99}$/, "a binding name");
const instanceId = z
  .string()
  .max(100)
  .regex(/^[a-zA-Z0-9_][a-zA-Z0-9-_]*$/, "an instance id: letters, digits, '-' and '_'");
/** The Worker the workflow belongs to, as workflows() names it; absent: the project's own Worker. */
const worker = z.string().min(1).max(200).optional();

export const workflowSchemas = {
  instances: z.object({ worker, binding, limit: z.number().int().min(1).max(10_000).optional() }).strict(),
  instance: z.object({ worker, binding, id: instanceId }).strict(),
  create: z.object({ worker, binding, id: instanceId.optional(), params: z.unknown().optional() }).strict(),
  control: z
    .object({ worker, binding, id: instanceId, action: z.enum(["pause", "resume", "terminate", "restart"]) })
    .strict(),
  event: z
    .object({
      worker,
      binding,
      id: instanceId,
      type: z.string().min(1).max(100),
      payload: z.unknown().optional(),
    })
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
  /** Every Worker's workflows (the project's own first), each with its Worker and its instances counted by status. */
  workflows(): Promise<WorkerWorkflowSummary[]>;
  /** A workflow's instances, newest first (`worker` picks another Worker's; absent: the project's own). */
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
