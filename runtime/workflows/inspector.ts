import type { WorkflowErrorInfo } from "../bindings/workflow-calls.ts";
import type {
  InstanceDetail,
  InstanceSummary,
  StepAttempt,
  WorkflowSpec,
  WorkflowSummary,
} from "./records.ts";
import { preview, unblob, type InstanceRow, type Statements } from "./store.ts";

/** The Inspector's reads of the store: workflows, their instances, one instance's timeline. */

export function workflowSummaries(stmt: Statements, specs: Iterable<WorkflowSpec>): WorkflowSummary[] {
  return [...specs].map((s) => {
    const byStatus: WorkflowSummary["byStatus"] = {};
    let instances = 0;
    for (const c of stmt.counts.all(s.binding)) {
      byStatus[c.status] = c.n;
      instances += c.n;
    }
    return { ...s, instances, byStatus };
  });
}

export function instanceSummaries(stmt: Statements, binding: string, limit: number): InstanceSummary[] {
  return stmt.list.all(binding, limit).map((r) => summary(stmt, r));
}

function summary(stmt: Statements, r: InstanceRow): InstanceSummary {
  return {
    binding: r.binding,
    id: r.id,
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    steps: stmt.countSteps.get(r.binding, r.id)?.n ?? 0,
    error: r.error ? (JSON.parse(r.error) as WorkflowErrorInfo) : null,
  };
}

export function instanceDetail(stmt: Statements, binding: string, id: string): InstanceDetail | null {
  const r = stmt.instance.get(binding, id);
  if (!r) return null;
  return {
    ...summary(stmt, r),
    params: preview(unblob(r.params)),
    output: r.status === "complete" ? preview(unblob(r.output)) : null,
    steps_: stmt.steps.all(binding, id).map((s) => ({
      key: s.key,
      kind: s.kind,
      name: s.name,
      state: s.state,
      startedAt: s.started_at,
      endedAt: s.ended_at,
      wakeAt: s.wake_at,
      attempts: JSON.parse(s.attempts) as StepAttempt[],
      output:
        s.output === null
          ? null
          : preview(
              s.kind === "wait" ? (unblob(s.output) as { payload: unknown }).payload : unblob(s.output),
            ),
      error: s.error && s.state === "failed" ? (JSON.parse(s.error) as WorkflowErrorInfo) : null,
      eventType: s.event_type,
    })),
    events: stmt.events.all(binding, id).map((e) => ({
      type: e.type,
      payload: preview(unblob(e.payload)),
      receivedAt: e.received_at,
      consumed: e.consumed_by !== null,
    })),
  };
}
