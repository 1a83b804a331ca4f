import type Database from "better-sqlite3";
import type { Clock } from "../shared/clock.ts";
import {
  ABORT_REASONS,
  isNonRetryable,
  type RunRef,
  type StepReply,
  type WorkflowAction,
  type WorkflowCall,
  type WorkflowErrorInfo,
  type WorkflowRunResult,
  type WorkflowRunSpec,
  type WorkflowStatus,
  type WorkflowStatusName,
} from "../bindings/workflow-calls.ts";
import { instanceDetail, instanceSummaries, workflowSummaries } from "./inspector.ts";
import type { InstanceDetail, InstanceSummary, WorkflowSpec, WorkflowSummary } from "./records.ts";
import { Steps } from "./steps.ts";
import { blob, FINITE, instanceKey, openStore, unblob, type InstanceRow, type Statements } from "./store.ts";

/**
 * The Workflows engine: every instance of the project's `workflows`, its
 * steps' results, sleeps and events, in `<data>/workflows.sqlite`
 * (store.ts). A run of an instance executes the user's `run(event, step)`
 * in the entry worker (`runner`); each step call comes back here and is
 * answered by steps.ts. A step that succeeded (or failed for good) is
 * recorded and never runs again: after a restart of Terrarium, or a resume,
 * the run starts over and every recorded step returns its stored result at
 * once (replay), so the instance continues where it was. Sleeps, retry
 * delays and event timeouts are timed from stored wake-up times, so they
 * survive a restart too. This file holds the instances' side: the
 * binding's calls (create, status, pause/resume/terminate/restart, events),
 * the runs, and the Inspector's reads (inspector.ts).
 *
 * Behaviour follows workerd's local engine (Miniflare): statuses, errors,
 * `status()`'s shape (with its __LOCAL_DEV_STEP_OUTPUTS); see
 * test/fidelity/projects/workflows.
 */
export class Workflows {
  readonly #db: Database.Database;
  readonly #stmt: Statements;
  readonly #clock: Clock;
  readonly #specs = new Map<string, WorkflowSpec>();
  readonly #runner: (spec: WorkflowRunSpec) => Promise<WorkflowRunResult>;
  /** The step calls of the runs (steps.ts). */
  readonly #steps: Steps;
  readonly #runs = new Set<Promise<void>>();
  #closed = false;

  constructor(deps: {
    dataDir: string;
    clock: Clock;
    workflows: WorkflowSpec[];
    runner: (spec: WorkflowRunSpec) => Promise<WorkflowRunResult>;
  }) {
    const { db, stmt } = openStore(deps.dataDir);
    this.#db = db;
    this.#stmt = stmt;
    this.#clock = deps.clock;
    this.#runner = deps.runner;
    this.setWorkflows(deps.workflows);
    this.#steps = new Steps({ db, stmt, clock: deps.clock, closed: () => this.#closed });
  }

  setWorkflows(specs: WorkflowSpec[]): void {
    this.#specs.clear();
    for (const s of specs) this.#specs.set(s.binding, s);
  }

  /** Resumes every instance that was queued or running when Terrarium stopped (replaying its steps). */
  start(): void {
    for (const row of this.#stmt.active.all()) {
      if (!this.#specs.has(row.binding)) continue;
      if (row.status === "waitingForPause") {
        this.#stmt.setStatus.run("paused", this.#clock.now(), row.binding, row.id);
        this.#stmt.pausedAt.run(this.#clock.now(), row.binding, row.id);
        continue;
      }
      this.#launch(row.binding, row.id, row.run, row.params, row.created_at);
    }
  }

  // ---- the binding's calls (from workers) ----

  /** One call from a worker (GatewayApi.workflow). */
  async handle(call: WorkflowCall): Promise<unknown> {
    if (this.#closed) {
      if ("ref" in call) return { kind: "abort", reason: ABORT_REASONS.shutdown } satisfies StepReply;
      throw new Error("Terrarium is stopping");
    }
    switch (call.op) {
      case "create":
        return this.create(call.binding, call.instances);
      case "exists":
        return this.#row(call.binding, call.id) !== undefined;
      case "status":
        return this.status(call.binding, call.id);
      case "control":
        return this.control(call.binding, call.id, call.action);
      case "event":
        return this.sendEvent(call.binding, call.id, call.type, call.payload);
      case "do":
        return this.#steps.do(call.ref, call.key, call.name, call.config);
      case "attempt":
        return this.#steps.attempt(call.ref, call.key, call.outcome);
      case "sleep":
        return this.#steps.sleep(call.ref, call.key, call.name, call.until);
      case "wait":
        return this.#steps.wait(call.ref, call.key, call.name, call.type, call.timeoutMs);
    }
  }

  #spec(binding: string): WorkflowSpec {
    const spec = this.#specs.get(binding);
    if (!spec) throw new Error(`no workflow is bound to ${binding}`);
    return spec;
  }

  #row(binding: string, id: string): InstanceRow | undefined {
    return this.#stmt.instance.get(binding, id);
  }

  /**
   * Creates instances and starts them. An id that exists already is left
   * as it is (workerd's local engine does the same; Cloudflare refuses it).
   */
  create(binding: string, instances: { id: string; params: unknown }[]): string[] {
    this.#spec(binding);
    const now = this.#clock.now();
    const made = this.#db.transaction(() =>
      instances.filter(
        (i) => this.#stmt.insertInstance.run(binding, i.id, blob(i.params), now, now).changes > 0,
      ),
    )();
    for (const i of made) {
      const row = this.#row(binding, i.id)!;
      this.#launch(binding, i.id, row.run, row.params, row.created_at);
    }
    return instances.map((i) => i.id);
  }

  status(binding: string, id: string): WorkflowStatus {
    const row = this.#row(binding, id);
    if (!row) throw new Error("instance.not_found");
    // As workerd's: a step's result, an event wait's payload.
    const outputs = this.#stmt.outputs
      .all(binding, id)
      .map((s) =>
        s.kind === "wait" ? (unblob(s.output) as { payload: unknown }).payload : unblob(s.output),
      );
    const status: WorkflowStatus = {
      status: row.status,
      __LOCAL_DEV_STEP_OUTPUTS: outputs,
      output: row.status === "complete" ? unblob(row.output) : null,
    };
    if (row.status === "errored" && row.error) status.error = JSON.parse(row.error) as WorkflowErrorInfo;
    return status;
  }

  /** pause, resume, terminate, restart; answers the error to throw (workerd's), or undefined. */
  control(binding: string, id: string, action: WorkflowAction): WorkflowErrorInfo | undefined {
    const row = this.#row(binding, id);
    if (!row) return { name: "WorkflowError", message: "(instance.not_found) Instance does not exist" };
    const now = this.#clock.now();
    const key = instanceKey(binding, id);
    switch (action) {
      case "pause": {
        if (row.status !== "running" && row.status !== "waiting") return undefined;
        if (this.#steps.inAttempt(key)) {
          this.#stmt.setStatus.run("waitingForPause", now, binding, id);
          return undefined;
        }
        this.#steps.pauseNow(binding, id);
        return undefined;
      }
      case "resume": {
        if (row.status === "waitingForPause") {
          this.#stmt.setStatus.run("running", now, binding, id);
          return undefined;
        }
        if (row.status !== "paused") return undefined;
        if (row.paused_at !== null) this.#stmt.shiftWakes.run(now - row.paused_at, binding, id);
        this.#stmt.pausedAt.run(null, binding, id);
        this.#newRun(binding, id, "queued");
        return undefined;
      }
      case "terminate": {
        if (FINITE.includes(row.status))
          return {
            name: "WorkflowError",
            message: "(instance.cannot_terminate) Cannot terminate instance since its on a finite state",
          };
        this.#db.transaction(() => {
          this.#stmt.newRun.run("terminated", now, binding, id);
        })();
        this.#steps.abortPending(key, ABORT_REASONS.terminate);
        return undefined;
      }
      case "restart": {
        this.#db.transaction(() => {
          this.#stmt.clearSteps.run(binding, id);
          this.#stmt.clearEvents.run(binding, id);
          this.#stmt.pausedAt.run(null, binding, id);
          this.#stmt.finish.run("queued", null, null, now, binding, id);
        })();
        this.#newRun(binding, id, "queued", ABORT_REASONS.restart);
        return undefined;
      }
    }
  }

  /** Ends the current run (its pending calls abort) and, unless paused or terminated, starts a new one. */
  #newRun(
    binding: string,
    id: string,
    status: WorkflowStatusName,
    reason: string = ABORT_REASONS.restart,
  ): void {
    this.#stmt.newRun.run(status, this.#clock.now(), binding, id);
    this.#steps.abortPending(instanceKey(binding, id), reason);
    const row = this.#row(binding, id)!;
    this.#launch(binding, id, row.run, row.params, row.created_at);
  }

  /** Stores the event and hands it to a waitForEvent waiting for its type, if one is. */
  sendEvent(binding: string, id: string, type: string, payload: unknown): void {
    if (!this.#row(binding, id)) throw new Error("instance.not_found");
    const now = this.#clock.now();
    const seq = Number(this.#stmt.insertEvent.run(binding, id, type, blob(payload), now).lastInsertRowid);
    this.#steps.deliver(instanceKey(binding, id), {
      seq,
      type,
      payload: blob(payload),
      received_at: now,
      consumed_by: null,
    });
  }

  // ---- runs ----

  #launch(binding: string, id: string, run: number, params: Buffer, createdAt: number): void {
    const spec = this.#specs.get(binding);
    if (!spec || this.#closed) return;
    const go = async (): Promise<void> => {
      let ref: RunRef = { binding, id, run };
      let delay = 250;
      for (;;) {
        const row = this.#row(binding, id);
        if (!row || row.run !== ref.run || this.#closed) return;
        if (row.status === "queued") this.#stmt.setStatus.run("running", this.#clock.now(), binding, id);
        let result: WorkflowRunResult;
        try {
          result = await this.#runner({
            ref,
            className: spec.className,
            event: { payload: unblob(params), timestamp: new Date(createdAt), instanceId: id },
          });
        } catch {
          // The entry worker ended under the run (a code update, a crash): a new run replays its steps.
          if (this.#closed) return;
          await new Promise((r) => this.#clock.setTimeout(() => r(undefined), delay));
          delay = Math.min(delay * 2, 30_000);
          const now = this.#row(binding, id);
          if (!now || now.run !== ref.run || this.#closed) return;
          // What the lost run still waits on must not answer (or take an event) in the new one's place.
          this.#stmt.newRun.run(now.status, this.#clock.now(), binding, id);
          this.#steps.abortPending(instanceKey(binding, id), ABORT_REASONS.restart);
          ref = { binding, id, run: ref.run + 1 };
          continue;
        }
        this.#finish(ref, result);
        return;
      }
    };
    const p = go().finally(() => this.#runs.delete(p));
    this.#runs.add(p);
  }

  #finish(ref: RunRef, result: WorkflowRunResult): void {
    if (this.#closed) return;
    const row = this.#row(ref.binding, ref.id);
    if (!row || row.run !== ref.run || FINITE.includes(row.status) || row.status === "paused") return;
    const now = this.#clock.now();
    if (result.ok) {
      this.#stmt.finish.run("complete", blob(result.output), null, now, ref.binding, ref.id);
      return;
    }
    if (result.error.message.startsWith("Aborting engine:")) return;
    const error = isNonRetryable(result.error)
      ? {
          name: "WorkflowFatalError",
          message:
            "The execution of the Workflow instance was terminated, as a step threw an NonRetryableError and it was not handled",
        }
      : result.error;
    this.#stmt.finish.run("errored", null, JSON.stringify(error), now, ref.binding, ref.id);
  }

  // ---- the Inspector ----

  list(): WorkflowSummary[] {
    return workflowSummaries(this.#stmt, this.#specs.values());
  }

  instances(binding: string, limit = 200): InstanceSummary[] {
    return instanceSummaries(this.#stmt, binding, limit);
  }

  instance(binding: string, id: string): InstanceDetail | null {
    return instanceDetail(this.#stmt, binding, id);
  }

  /**
   * Stops: pending sleeps, delays and event waits answer `abort` so the
   * runs in the entry worker unwind; what they recorded stays, and the
   * next start resumes them.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#steps.abortAll(ABORT_REASONS.shutdown);
    await Promise.race([Promise.allSettled([...this.#runs]), new Promise((r) => setTimeout(r, 2000))]);
    this.#db.close();
  }
}
