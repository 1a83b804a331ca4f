import type Database from "better-sqlite3";
import type { Clock } from "../shared/clock.ts";
import {
  ABORT_REASONS,
  retryDelayMs,
  type RunRef,
  type StepConfig,
  type StepReply,
  type WorkflowCall,
  type WorkflowErrorInfo,
} from "../bindings/workflow-calls.ts";
import type { StepAttempt, StepRecord } from "./records.ts";
import {
  blob,
  FINITE,
  instanceKey,
  unblob,
  type EventRow,
  type InstanceRow,
  type Statements,
  type StepRow,
} from "./store.ts";

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

/** A step's row as it is first recorded. */
interface NewStep {
  kind: StepRecord["kind"];
  name: string;
  state: StepRecord["state"];
  startedAt: number;
  wakeAt: number | null;
  config: string | null;
  eventType: string | null;
}

/**
 * The step calls of running instances (`step.do`, its attempts,
 * `step.sleep`, `step.waitForEvent`), answered from the store: a step that
 * succeeded or failed for good is replayed from its row and never runs
 * again; a new one is recorded before it runs. Sleeps, retry delays and
 * event timeouts wait on the clock until their stored wake-up time, and a
 * run that is no longer its instance's current one (paused, terminated,
 * restarted, or Terrarium stopping) gets `abort` instead.
 */
export class Steps {
  readonly #db: Database.Database;
  readonly #stmt: Statements;
  readonly #clock: Clock;
  readonly #closed: () => boolean;
  /** Calls waiting on a timer or an event, per instance ("binding\0id"). */
  readonly #pending = new Map<string, Set<Pending>>();
  readonly #waiters = new Map<string, Waiter[]>();
  /** Instances with a step attempt in flight (a pause waits for it). */
  readonly #inAttempt = new Map<string, number>();
  /** The order in which steps finished, over all instances (status()'s outputs). */
  #seq: number;

  constructor(deps: { db: Database.Database; stmt: Statements; clock: Clock; closed: () => boolean }) {
    this.#db = deps.db;
    this.#stmt = deps.stmt;
    this.#clock = deps.clock;
    this.#closed = deps.closed;
    this.#seq = this.#stmt.maxSeq.get()?.s ?? 0;
  }

  /** Whether the instance (by instanceKey) has a step attempt running. */
  inAttempt(key: string): boolean {
    return (this.#inAttempt.get(key) ?? 0) > 0;
  }

  /** Hands an event to a waitForEvent of the instance waiting for its type; false when none waits. */
  deliver(key: string, event: EventRow): boolean {
    const waiters = this.#waiters.get(key) ?? [];
    const i = waiters.findIndex((w) => w.type === event.type);
    if (i < 0) return false;
    const [w] = waiters.splice(i, 1);
    w!.deliver(event);
    return true;
  }

  /** Pauses the instance now: its run ends and what it waits on answers `abort`. */
  pauseNow(binding: string, id: string): void {
    const now = this.#clock.now();
    this.#db.transaction(() => {
      this.#stmt.newRun.run("paused", now, binding, id);
      this.#stmt.pausedAt.run(now, binding, id);
    })();
    this.abortPending(instanceKey(binding, id), ABORT_REASONS.pause);
  }

  /** What the instance's run waits on (sleeps, delays, events) answers `abort` with `reason`. */
  abortPending(key: string, reason: string): void {
    for (const p of [...(this.#pending.get(key) ?? [])]) p.abort(reason);
    this.#waiters.delete(key);
    this.#inAttempt.delete(key);
  }

  /** Every instance's waits answer `abort` with `reason` (Terrarium is stopping). */
  abortAll(reason: string): void {
    for (const key of [...this.#pending.keys()]) this.abortPending(key, reason);
  }

  /** Null when `ref` is no longer the instance's current run (the caller aborts). */
  #current(ref: RunRef): InstanceRow | null {
    if (this.#closed()) return null;
    const row = this.#stmt.instance.get(ref.binding, ref.id);
    if (!row || row.run !== ref.run || FINITE.includes(row.status) || row.status === "paused") return null;
    return row;
  }

  #abortReply(ref: RunRef): StepReply {
    const row = this.#stmt.instance.get(ref.binding, ref.id);
    const reason =
      row?.status === "paused"
        ? ABORT_REASONS.pause
        : row?.status === "terminated"
          ? ABORT_REASONS.terminate
          : this.#closed()
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

  #nextSeq(): number {
    return ++this.#seq;
  }

  /**
   * The step `key` of the run as recorded: one that is done or failed for
   * good answers the call at once (`replay` for a done one; a failed one
   * throws its error again); one in progress is returned to go on with; a
   * new one is recorded (`fresh`) at the end of the instance's timeline.
   */
  #stepRow(
    ref: RunRef,
    key: string,
    fresh: NewStep,
    replay: (done: StepRow) => StepReply,
  ): { reply: StepReply } | { row: StepRow } {
    const step = this.#stmt.step.get(ref.binding, ref.id, key);
    if (step?.state === "done") return { reply: replay(step) };
    if (step?.state === "failed")
      return { reply: { kind: "failed", error: JSON.parse(step.error!) as WorkflowErrorInfo } };
    if (step) return { row: step };
    const seq = this.#stmt.nextStepSeq.get(ref.binding, ref.id)?.s ?? 0;
    this.#stmt.insertStep.run(
      ref.binding,
      ref.id,
      key,
      fresh.kind,
      fresh.name,
      fresh.state,
      fresh.startedAt,
      fresh.wakeAt,
      fresh.config,
      fresh.eventType,
      seq,
    );
    return { row: this.#stmt.step.get(ref.binding, ref.id, key)! };
  }

  /** `step.do`: a recorded result, or the go-ahead for the next attempt (after a retry's delay). */
  async do(ref: RunRef, key: string, name: string, config: StepConfig): Promise<StepReply> {
    const row = this.#current(ref);
    if (!row) return this.#abortReply(ref);
    if (row.status === "waitingForPause" && !this.#inAttempt.get(instanceKey(ref.binding, ref.id))) {
      this.pauseNow(ref.binding, ref.id);
      return this.#abortReply(ref);
    }
    const now = this.#clock.now();
    const found = this.#stepRow(
      ref,
      key,
      {
        kind: "do",
        name,
        state: "running",
        startedAt: now,
        wakeAt: null,
        config: JSON.stringify(config),
        eventType: null,
      },
      (done) => ({ kind: "cached", value: unblob(done.output) }),
    );
    if ("reply" in found) return found.reply;
    const step = found.row;
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

  /** How an attempt of `step.do` ended: recorded as done, failed for good, or retrying after its delay. */
  async attempt(
    ref: RunRef,
    key: string,
    outcome: Extract<WorkflowCall, { op: "attempt" }>["outcome"],
  ): Promise<StepReply> {
    const k = instanceKey(ref.binding, ref.id);
    const left = (this.#inAttempt.get(k) ?? 1) - 1;
    if (left > 0) this.#inAttempt.set(k, left);
    else this.#inAttempt.delete(k);
    const row = this.#stmt.instance.get(ref.binding, ref.id);
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
      this.pauseNow(ref.binding, ref.id);
      return this.#abortReply(ref);
    }
    if (FINITE.includes(row.status) || row.status === "paused") return this.#abortReply(ref);
    if (wake !== null && !(await this.#until(ref, wake))) return this.#abortReply(ref);
    if (!this.#current(ref)) return this.#abortReply(ref);
    return reply;
  }

  /** `step.sleep`/`sleepUntil`: done once its stored wake-up time comes (until < 0: is this sleep known?). */
  async sleep(ref: RunRef, key: string, name: string, until: number): Promise<StepReply> {
    if (!this.#current(ref)) return this.#abortReply(ref);
    // sleepUntil's question: is this sleep known? (no: it checks its time, then sleeps)
    if (until < 0 && !this.#stmt.step.get(ref.binding, ref.id, key)) return { kind: "retry" };
    const found = this.#stepRow(
      ref,
      key,
      {
        kind: "sleep",
        name,
        state: "sleeping",
        startedAt: this.#clock.now(),
        wakeAt: until,
        config: null,
        eventType: null,
      },
      () => ({ kind: "ok" }),
    );
    if ("reply" in found) return found.reply;
    const step = found.row;
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

  /** `step.waitForEvent`: an event of `type` sent before or while it waits, or a timeout error. */
  async wait(ref: RunRef, key: string, name: string, type: string, timeoutMs: number): Promise<StepReply> {
    if (!this.#current(ref)) return this.#abortReply(ref);
    const now = this.#clock.now();
    const found = this.#stepRow(
      ref,
      key,
      {
        kind: "wait",
        name,
        state: "waiting",
        startedAt: now,
        wakeAt: now + timeoutMs,
        config: null,
        eventType: type,
      },
      (done) => ({
        kind: "event",
        event: unblob(done.output) as { payload: unknown; type: string; timestamp: Date },
      }),
    );
    if ("reply" in found) return found.reply;
    const step = found.row;
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
}
