import type { WorkflowErrorInfo, WorkflowStatusName } from "../bindings/workflow-calls.ts";

/** What the Workflows engine keeps and the Inspector reads (the control API's Workflows page). */

export interface WorkflowSpec {
  binding: string;
  name: string;
  className: string;
}

export interface WorkflowSummary extends WorkflowSpec {
  instances: number;
  byStatus: Partial<Record<WorkflowStatusName, number>>;
}

export interface InstanceSummary {
  binding: string;
  id: string;
  status: WorkflowStatusName;
  createdAt: number;
  updatedAt: number;
  /** Steps recorded in the current run. */
  steps: number;
  error: WorkflowErrorInfo | null;
}

export interface StepAttempt {
  attempt: number;
  startedAt: number;
  endedAt: number | null;
  error: WorkflowErrorInfo | null;
  /** After a failed attempt with retries left: the wait before the next (the step's backoff). */
  retryDelayMs?: number;
}

export interface StepRecord {
  key: string;
  kind: "do" | "sleep" | "wait";
  name: string;
  state: "running" | "retrying" | "done" | "failed" | "sleeping" | "waiting";
  startedAt: number;
  endedAt: number | null;
  /** A sleep's wake-up, a retry's next attempt, an event wait's timeout (ms since the epoch). */
  wakeAt: number | null;
  attempts: StepAttempt[];
  /** The result as JSON-like text (null while there is none). */
  output: string | null;
  error: WorkflowErrorInfo | null;
  /** For a waitForEvent: the event type. */
  eventType: string | null;
}

export interface InstanceDetail extends InstanceSummary {
  params: string;
  output: string | null;
  steps_: StepRecord[];
  events: { type: string; payload: string; receivedAt: number; consumed: boolean }[];
}
