import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import type Database from "better-sqlite3";
import type { Clock } from "../shared/clock.ts";
import { openDatabase } from "../shared/sqlite.ts";
import {
  ABORT_REASONS,
  isNonRetryable,
  retryDelayMs,
  type RunRef,
  type StepConfig,
  type StepReply,
  type WorkflowAction,
  type WorkflowCall,
  type WorkflowErrorInfo,
  type WorkflowRunResult,
  type WorkflowRunSpec,
  type WorkflowStatus,
  type WorkflowStatusName,
} from "../bindings/workflow-calls.ts";

/**
 * The Workflows engine: every instance of the project's `workflows`, its
 * steps' results, sleeps and events, in `<data>/workflows.sqlite`. A run of
 * an instance executes the user's `run(event, step)` in the entry worker
 * (`runner`); each step call comes back here. A step that succeeded (or
 * failed for good) is recorded and never runs again: after a restart of
 * Terrarium, or a resume, the run starts over and every recorded step
 * returns its stored result at once (replay), so the instance continues
 * where it was. Sleeps, retry delays and event timeouts are timed here,
 * from stored wake-up times, so they survive a restart too.
 *
 * Behaviour follows workerd's local engine (Miniflare): statuses, errors,
 * `status()`'s shape (with its __LOCAL_DEV_STEP_OUTPUTS); see
 * test/fidelity/projects/workflows.
 */

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

const MIGRATIONS = [
  `CREATE TABLE instances (
     binding TEXT NOT NULL,
     id TEXT NOT NULL,
     status TEXT NOT NULL,
     params BLOB NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     output BLOB,
     error TEXT,
     run INTEGER NOT NULL DEFAULT 0,
     paused_at INTEGER,
     PRIMARY KEY (binding, id)
   );
   CREATE TABLE steps (
     binding TEXT NOT NULL,
     instance TEXT NOT NULL,
     key TEXT NOT NULL,
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     state TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     wake_at INTEGER,
     attempts TEXT NOT NULL DEFAULT '[]',
     config TEXT,
     output BLOB,
     error TEXT,
     event_type TEXT,
     done_seq INTEGER,
     seq INTEGER NOT NULL,
     PRIMARY KEY (binding, instance, key)
   );
   CREATE INDEX steps_order ON steps(binding, instance, seq);
   CREATE TABLE events (
     seq INTEGER PRIMARY KEY,
     binding TEXT NOT NULL,
     instance TEXT NOT NULL,
     type TEXT NOT NULL,
     payload BLOB NOT NULL,
     received_at INTEGER NOT NULL,
     consumed_by TEXT
   );
   CREATE INDEX events_pending ON events(binding, instance, type, consumed_by, seq);`,
];

type InstanceRow = {
  binding: string;
  id: string;
  status: WorkflowStatusName;
  params: Buffer;
  created_at: number;
  updated_at: number;
  output: Buffer | null;
  error: string | null;
  run: number;
  paused_at: number | null;
};

type StepRow = {
  binding: string;
  instance: string;
  key: string;
  kind: StepRecord["kind"];
  name: string;
  state: StepRecord["state"];
  started_at: number;
  ended_at: number | null;
  wake_at: number | null;
  attempts: string;
  config: string | null;
  output: Buffer | null;
  error: string | null;
  event_type: string | null;
  done_seq: number | null;
  seq: number;
};

type EventRow = {
  seq: number;
  type: string;
  payload: Buffer;
  received_at: number;
  consumed_by: string | null;
};

const FINITE: readonly WorkflowStatusName[] = ["complete", "errored", "terminated"];

const blob = (v: unknown): Buffer => serialize(v);
const unblob = (b: Buffer | null): unknown => (b === null ? null : deserialize(b));

/** A value as readable text for the Inspector (JSON where it can be, a description where not). */
export function preview(value: unknown, max = 4096): string {
  let text: string;
  try {
    text =
      JSON.stringify(value, (_k, v: unknown) =>
        typeof v === "bigint"
          ? `${v}n`
          : v instanceof Map
            ? Object.fromEntries(v)
            : v instanceof Set
              ? [...v]
              : ArrayBuffer.isView(v)
                ? `[${v.constructor.name} ${v.byteLength} bytes]`
                : v,
      ) ?? "undefined";
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

interface Pending {
  run: number;
  /** Answers the step call with `abort` (a pause, terminate, restart or shutdown). */
  abort: (reason: string) => void;
}

interface Waiter {
  ref: RunRef;
  key: string;
  type: string;
  deliver: (event: EventRow) => void;
}

export class Workflows {
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #specs = new Map<string, WorkflowSpec>();
  readonly #runner: (spec: WorkflowRunSpec) => Promise<WorkflowRunResult>;
  /** Calls waiting on a timer or an event, per instance ("binding\0id"). */
  readonly #pending = new Map<string, Set<Pending>>();
  readonly #waiters = new Map<string, Waiter[]>();
  /** Instances with a step attempt in flight (a pause waits for it). */
  readonly #inAttempt = new Map<string, number>();
  readonly #runs = new Set<Promise<void>>();
  #closed = false;
  #stmt;
  #seq = 0;

  constructor(deps: {
    dataDir: string;
    clock: Clock;
    workflows: WorkflowSpec[];
    runner: (spec: WorkflowRunSpec) => Promise<WorkflowRunResult>;
  }) {
    this.#db = openDatabase(join(deps.dataDir, "workflows.sqlite"), MIGRATIONS);
    this.#clock = deps.clock;
    this.#runner = deps.runner;
    this.setWorkflows(deps.workflows);
    const db = this.#db;
    this.#stmt = {
      instance: db.prepare<[string, string], InstanceRow>(
        "SELECT * FROM instances WHERE binding = ? AND id = ?",
      ),
      insertInstance: db.prepare<[string, string, Buffer, number, number]>(
        "INSERT OR IGNORE INTO instances (binding, id, status, params, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?)",
      ),
      setStatus: db.prepare<[string, number, string, string]>(
        "UPDATE instances SET status = ?, updated_at = ? WHERE binding = ? AND id = ?",
      ),
      finish: db.prepare<[string, Buffer | null, string | null, number, string, string]>(
        "UPDATE instances SET status = ?, output = ?, error = ?, updated_at = ? WHERE binding = ? AND id = ?",
      ),
      newRun: db.prepare<[string, number, string, string]>(
        "UPDATE instances SET status = ?, run = run + 1, updated_at = ? WHERE binding = ? AND id = ?",
      ),
      pausedAt: db.prepare<[number | null, string, string]>(
        "UPDATE instances SET paused_at = ? WHERE binding = ? AND id = ?",
      ),
      active: db.prepare<[], InstanceRow>(
        "SELECT * FROM instances WHERE status IN ('queued', 'running', 'waitingForPause') ORDER BY created_at",
      ),
      step: db.prepare<[string, string, string], StepRow>(
        "SELECT * FROM steps WHERE binding = ? AND instance = ? AND key = ?",
      ),
      insertStep: db.prepare<
        [
          string,
          string,
          string,
          string,
          string,
          string,
          number,
          number | null,
          string | null,
          string | null,
          number,
        ]
      >(
        `INSERT INTO steps (binding, instance, key, kind, name, state, started_at, wake_at, config, event_type, seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateStep: db.prepare<
        [
          string,
          number | null,
          number | null,
          string,
          Buffer | null,
          string | null,
          number | null,
          string,
          string,
          string,
        ]
      >(
        `UPDATE steps SET state = ?, ended_at = ?, wake_at = ?, attempts = ?, output = ?, error = ?, done_seq = ?
         WHERE binding = ? AND instance = ? AND key = ?`,
      ),
      steps: db.prepare<[string, string], StepRow>(
        "SELECT * FROM steps WHERE binding = ? AND instance = ? ORDER BY seq",
      ),
      outputs: db.prepare<[string, string], StepRow>(
        "SELECT * FROM steps WHERE binding = ? AND instance = ? AND state = 'done' AND kind IN ('do', 'wait') ORDER BY done_seq",
      ),
      nextStepSeq: db.prepare<[string, string], { s: number }>(
        "SELECT coalesce(max(seq), -1) + 1 AS s FROM steps WHERE binding = ? AND instance = ?",
      ),
      countSteps: db.prepare<[string, string], { n: number }>(
        "SELECT count(*) AS n FROM steps WHERE binding = ? AND instance = ?",
      ),
      shiftWakes: db.prepare<[number, string, string]>(
        "UPDATE steps SET wake_at = wake_at + ? WHERE binding = ? AND instance = ? AND wake_at IS NOT NULL AND state IN ('sleeping', 'waiting', 'retrying')",
      ),
      clearSteps: db.prepare<[string, string]>("DELETE FROM steps WHERE binding = ? AND instance = ?"),
      clearEvents: db.prepare<[string, string]>("DELETE FROM events WHERE binding = ? AND instance = ?"),
      insertEvent: db.prepare<[string, string, string, Buffer, number]>(
        "INSERT INTO events (binding, instance, type, payload, received_at) VALUES (?, ?, ?, ?, ?)",
      ),
      nextEvent: db.prepare<[string, string, string], EventRow>(
        "SELECT * FROM events WHERE binding = ? AND instance = ? AND type = ? AND consumed_by IS NULL ORDER BY seq LIMIT 1",
      ),
      consume: db.prepare<[string, number]>("UPDATE events SET consumed_by = ? WHERE seq = ?"),
      events: db.prepare<[string, string], EventRow>(
        "SELECT * FROM events WHERE binding = ? AND instance = ? ORDER BY seq",
      ),
      list: db.prepare<[string, number], InstanceRow>(
        "SELECT * FROM instances WHERE binding = ? ORDER BY created_at DESC, id LIMIT ?",
      ),
      counts: db.prepare<[string], { status: WorkflowStatusName; n: number }>(
        "SELECT status, count(*) AS n FROM instances WHERE binding = ? GROUP BY status",
      ),
      maxSeq: db.prepare<[], { s: number | null }>("SELECT max(coalesce(done_seq, 0)) AS s FROM steps"),
    };
    this.#seq = this.#stmt.maxSeq.get()?.s ?? 0;
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
        return this.#do(call.ref, call.key, call.name, call.config);
      case "attempt":
        return this.#attempt(call.ref, call.key, call.outcome);
      case "sleep":
        return this.#sleep(call.ref, call.key, call.name, call.until);
      case "wait":
        return this.#wait(call.ref, call.key, call.name, call.type, call.timeoutMs);
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
        if ((this.#inAttempt.get(key) ?? 0) > 0) {
          this.#stmt.setStatus.run("waitingForPause", now, binding, id);
          return undefined;
        }
        this.#pauseNow(binding, id);
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
        this.#abortPending(key, ABORT_REASONS.terminate);
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

  #pauseNow(binding: string, id: string): void {
    const now = this.#clock.now();
    this.#db.transaction(() => {
      this.#stmt.newRun.run("paused", now, binding, id);
      this.#stmt.pausedAt.run(now, binding, id);
    })();
    this.#abortPending(instanceKey(binding, id), ABORT_REASONS.pause);
  }

  /** Ends the current run (its pending calls abort) and, unless paused or terminated, starts a new one. */
  #newRun(
    binding: string,
    id: string,
    status: WorkflowStatusName,
    reason: string = ABORT_REASONS.restart,
  ): void {
    this.#stmt.newRun.run(status, this.#clock.now(), binding, id);
    this.#abortPending(instanceKey(binding, id), reason);
    const row = this.#row(binding, id)!;
    this.#launch(binding, id, row.run, row.params, row.created_at);
  }

  /** Stores the event and hands it to a waitForEvent waiting for its type, if one is. */
  sendEvent(binding: string, id: string, type: string, payload: unknown): void {
    if (!this.#row(binding, id)) throw new Error("instance.not_found");
    const now = this.#clock.now();
    const seq = Number(this.#stmt.insertEvent.run(binding, id, type, blob(payload), now).lastInsertRowid);
    const key = instanceKey(binding, id);
    const waiters = this.#waiters.get(key) ?? [];
    const i = waiters.findIndex((w) => w.type === type);
    if (i >= 0) {
      const [w] = waiters.splice(i, 1);
      w!.deliver({ seq, type, payload: blob(payload), received_at: now, consumed_by: null });
    }
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
          this.#abortPending(instanceKey(binding, id), ABORT_REASONS.restart);
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

  /** Null when `ref` is no longer the instance's current run (the caller aborts). */
  #current(ref: RunRef): InstanceRow | null {
    if (this.#closed) return null;
    const row = this.#row(ref.binding, ref.id);
    if (!row || row.run !== ref.run || FINITE.includes(row.status) || row.status === "paused") return null;
    return row;
  }

  #abortReply(ref: RunRef): StepReply {
    const row = this.#row(ref.binding, ref.id);
    const reason =
      row?.status === "paused"
        ? ABORT_REASONS.pause
        : row?.status === "terminated"
          ? ABORT_REASONS.terminate
          : this.#closed
            ? ABORT_REASONS.shutdown
            : ABORT_REASONS.restart;
    return { kind: "abort", reason };
  }

  /**
   * Waits until `at` (or an abort of the run). Resolves true when the time
   * came, false when the run was aborted.
   */
  #until(ref: RunRef, at: number, extra?: (resolve: (v: boolean) => void) => () => void): Promise<boolean> {
    const key = instanceKey(ref.binding, ref.id);
    return new Promise<boolean>((resolve) => {
      let cleanupExtra: (() => void) | null = null;
      const timer = this.#clock.setTimeout(() => done(true), Math.max(0, at - this.#clock.now()));
      const pending: Pending = { run: ref.run, abort: () => done(false) };
      const set = this.#pending.get(key) ?? new Set();
      set.add(pending);
      this.#pending.set(key, set);
      const done = (v: boolean): void => {
        timer.cancel();
        cleanupExtra?.();
        set.delete(pending);
        if (set.size === 0) this.#pending.delete(key);
        resolve(v);
      };
      if (extra) cleanupExtra = extra(done);
    });
  }

  #abortPending(key: string, reason: string): void {
    for (const p of [...(this.#pending.get(key) ?? [])]) p.abort(reason);
    this.#waiters.delete(key);
    this.#inAttempt.delete(key);
  }

  #nextSeq(): number {
    return ++this.#seq;
  }

  /** The position of a new step in the instance's timeline. */
  #stepCount(ref: RunRef): number {
    return this.#stmt.nextStepSeq.get(ref.binding, ref.id)?.s ?? 0;
  }

  async #do(ref: RunRef, key: string, name: string, config: StepConfig): Promise<StepReply> {
    const row = this.#current(ref);
    if (!row) return this.#abortReply(ref);
    if (row.status === "waitingForPause" && !this.#inAttempt.get(instanceKey(ref.binding, ref.id))) {
      this.#pauseNow(ref.binding, ref.id);
      return this.#abortReply(ref);
    }
    let step = this.#stmt.step.get(ref.binding, ref.id, key);
    if (step?.state === "done") return { kind: "cached", value: unblob(step.output) };
    if (step?.state === "failed")
      return { kind: "failed", error: JSON.parse(step.error!) as WorkflowErrorInfo };
    const now = this.#clock.now();
    if (!step) {
      this.#stmt.insertStep.run(
        ref.binding,
        ref.id,
        key,
        "do",
        name,
        "running",
        now,
        null,
        JSON.stringify(config),
        null,
        this.#stepCount(ref),
      );
      step = this.#stmt.step.get(ref.binding, ref.id, key)!;
    }
    if (step.state === "retrying" && step.wake_at !== null && step.wake_at > now) {
      // Restarted during a retry's delay: the rest of the delay first.
      if (!(await this.#until(ref, step.wake_at)) || !this.#current(ref)) return this.#abortReply(ref);
    }
    const attempts = JSON.parse(step.attempts) as StepAttempt[];
    const last = attempts[attempts.length - 1];
    if (last && last.endedAt === null) {
      // An attempt cut short by a restart of Terrarium counts as failed (as workerd's engine does).
      last.endedAt = this.#clock.now();
      last.error = {
        name: "WorkflowInternalError",
        message: "Attempt failed due to internal workflows error",
      };
    }
    const attempt = attempts.length + 1;
    attempts.push({ attempt, startedAt: this.#clock.now(), endedAt: null, error: null });
    this.#stmt.updateStep.run(
      "running",
      null,
      null,
      JSON.stringify(attempts),
      null,
      null,
      null,
      ref.binding,
      ref.id,
      key,
    );
    const k = instanceKey(ref.binding, ref.id);
    this.#inAttempt.set(k, (this.#inAttempt.get(k) ?? 0) + 1);
    return { kind: "attempt", attempt };
  }

  async #attempt(
    ref: RunRef,
    key: string,
    outcome: Extract<WorkflowCall, { op: "attempt" }>["outcome"],
  ): Promise<StepReply> {
    const k = instanceKey(ref.binding, ref.id);
    const left = (this.#inAttempt.get(k) ?? 1) - 1;
    if (left > 0) this.#inAttempt.set(k, left);
    else this.#inAttempt.delete(k);
    const row = this.#row(ref.binding, ref.id);
    const step = this.#stmt.step.get(ref.binding, ref.id, key);
    if (!step || !row || row.run !== ref.run) return this.#abortReply(ref);
    const now = this.#clock.now();
    const attempts = JSON.parse(step.attempts) as StepAttempt[];
    const last = attempts[attempts.length - 1];
    if (last) {
      last.endedAt = now;
      last.error = outcome.ok ? null : outcome.error;
    }
    const config = JSON.parse(step.config ?? "null") as StepConfig;
    const a = (): string => JSON.stringify(attempts);
    let reply: StepReply;
    let wake: number | null = null;
    if (outcome.ok) {
      this.#stmt.updateStep.run(
        "done",
        now,
        null,
        a(),
        blob(outcome.value),
        null,
        this.#nextSeq(),
        ref.binding,
        ref.id,
        key,
      );
      reply = { kind: "ok" };
    } else if (outcome.fatal || attempts.length > config.retries.limit) {
      this.#stmt.updateStep.run(
        "failed",
        now,
        null,
        a(),
        null,
        JSON.stringify(outcome.error),
        null,
        ref.binding,
        ref.id,
        key,
      );
      reply = { kind: "failed", error: outcome.error };
    } else {
      const delay = retryDelayMs(config.retries, attempts.length);
      if (last) last.retryDelayMs = delay;
      wake = now + delay;
      this.#stmt.updateStep.run(
        "retrying",
        null,
        wake,
        a(),
        null,
        JSON.stringify(outcome.error),
        null,
        ref.binding,
        ref.id,
        key,
      );
      reply = { kind: "retry" };
    }
    if (row.status === "waitingForPause" && left <= 0) {
      this.#pauseNow(ref.binding, ref.id);
      return this.#abortReply(ref);
    }
    if (FINITE.includes(row.status) || row.status === "paused") return this.#abortReply(ref);
    if (wake !== null && !(await this.#until(ref, wake))) return this.#abortReply(ref);
    if (!this.#current(ref)) return this.#abortReply(ref);
    return reply;
  }

  async #sleep(ref: RunRef, key: string, name: string, until: number): Promise<StepReply> {
    if (!this.#current(ref)) return this.#abortReply(ref);
    let step = this.#stmt.step.get(ref.binding, ref.id, key);
    if (step?.state === "done") return { kind: "ok" };
    // sleepUntil's question: is this sleep known? (no: it checks its time, then sleeps)
    if (!step && until < 0) return { kind: "retry" };
    if (!step) {
      this.#stmt.insertStep.run(
        ref.binding,
        ref.id,
        key,
        "sleep",
        name,
        "sleeping",
        this.#clock.now(),
        until,
        null,
        null,
        this.#stepCount(ref),
      );
      step = this.#stmt.step.get(ref.binding, ref.id, key)!;
    }
    if (!(await this.#until(ref, step.wake_at ?? until)) || !this.#current(ref)) return this.#abortReply(ref);
    this.#stmt.updateStep.run(
      "done",
      this.#clock.now(),
      step.wake_at,
      "[]",
      null,
      null,
      null,
      ref.binding,
      ref.id,
      key,
    );
    return { kind: "ok" };
  }

  async #wait(ref: RunRef, key: string, name: string, type: string, timeoutMs: number): Promise<StepReply> {
    if (!this.#current(ref)) return this.#abortReply(ref);
    let step = this.#stmt.step.get(ref.binding, ref.id, key);
    if (step?.state === "done")
      return {
        kind: "event",
        event: unblob(step.output) as { payload: unknown; type: string; timestamp: Date },
      };
    if (step?.state === "failed")
      return { kind: "failed", error: JSON.parse(step.error!) as WorkflowErrorInfo };
    const now = this.#clock.now();
    if (!step) {
      this.#stmt.insertStep.run(
        ref.binding,
        ref.id,
        key,
        "wait",
        name,
        "waiting",
        now,
        now + timeoutMs,
        null,
        type,
        this.#stepCount(ref),
      );
      step = this.#stmt.step.get(ref.binding, ref.id, key)!;
    }
    const wake = step.wake_at ?? now + timeoutMs;
    const took = (e: EventRow): StepReply => {
      const event = { payload: unblob(e.payload), type: e.type, timestamp: new Date(e.received_at) };
      this.#db.transaction(() => {
        this.#stmt.consume.run(key, e.seq);
        this.#stmt.updateStep.run(
          "done",
          this.#clock.now(),
          null,
          "[]",
          blob(event),
          null,
          this.#nextSeq(),
          ref.binding,
          ref.id,
          key,
        );
      })();
      return { kind: "event", event };
    };
    const buffered = this.#stmt.nextEvent.get(ref.binding, ref.id, type);
    if (buffered) return took(buffered);
    const ikey = instanceKey(ref.binding, ref.id);
    let got: EventRow | null = null;
    const came = await this.#until(ref, wake, (done) => {
      const waiter: Waiter = {
        ref,
        key,
        type,
        deliver: (e) => {
          got = e;
          done(true);
        },
      };
      const list = this.#waiters.get(ikey) ?? [];
      list.push(waiter);
      this.#waiters.set(ikey, list);
      return () => {
        const l = this.#waiters.get(ikey);
        const i = l?.indexOf(waiter) ?? -1;
        if (l && i >= 0) l.splice(i, 1);
      };
    });
    if (!came || !this.#current(ref)) return this.#abortReply(ref);
    if (got) return took(got);
    const error = { name: "WorkflowTimeoutError", message: `Execution timed out after ${timeoutMs}ms` };
    this.#stmt.updateStep.run(
      "failed",
      this.#clock.now(),
      null,
      "[]",
      null,
      JSON.stringify(error),
      null,
      ref.binding,
      ref.id,
      key,
    );
    return { kind: "failed", error };
  }

  // ---- the Inspector ----

  list(): WorkflowSummary[] {
    return [...this.#specs.values()].map((s) => {
      const byStatus: WorkflowSummary["byStatus"] = {};
      let instances = 0;
      for (const c of this.#stmt.counts.all(s.binding)) {
        byStatus[c.status] = c.n;
        instances += c.n;
      }
      return { ...s, instances, byStatus };
    });
  }

  instances(binding: string, limit = 200): InstanceSummary[] {
    return this.#stmt.list.all(binding, limit).map((r) => this.#summary(r));
  }

  #summary(r: InstanceRow): InstanceSummary {
    return {
      binding: r.binding,
      id: r.id,
      status: r.status,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      steps: this.#stmt.countSteps.get(r.binding, r.id)?.n ?? 0,
      error: r.error ? (JSON.parse(r.error) as WorkflowErrorInfo) : null,
    };
  }

  instance(binding: string, id: string): InstanceDetail | null {
    const r = this.#row(binding, id);
    if (!r) return null;
    return {
      ...this.#summary(r),
      params: preview(unblob(r.params)),
      output: r.status === "complete" ? preview(unblob(r.output)) : null,
      steps_: this.#stmt.steps.all(binding, id).map((s) => ({
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
      events: this.#stmt.events.all(binding, id).map((e) => ({
        type: e.type,
        payload: preview(unblob(e.payload)),
        receivedAt: e.received_at,
        consumed: e.consumed_by !== null,
      })),
    };
  }

  /**
   * Stops: pending sleeps, delays and event waits answer `abort` so the
   * runs in the entry worker unwind; what they recorded stays, and the
   * next start resumes them.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const key of [...this.#pending.keys()]) this.#abortPending(key, ABORT_REASONS.shutdown);
    await Promise.race([Promise.allSettled([...this.#runs]), new Promise((r) => setTimeout(r, 2000))]);
    this.#db.close();
  }
}

function instanceKey(binding: string, id: string): string {
  return `${binding}\0${id}`;
}
