import type { ChildProcess } from "node:child_process";
import type { Engine } from "../engine.ts";
import type { LimitFlag } from "../load/limits.ts";
import { EngineMetrics, type EngineSample } from "../load/metrics.ts";
import type { RemoteMetrics } from "../load/run.ts";
import type { RunUsage } from "../load/runs.ts";
import { usageBetween, type UsageSnapshot } from "../state/usage-meter.ts";

/**
 * A supervised `terrarium load` (load.ts) is two processes: the run (the
 * generator, the progress lines, the summary) in the supervisor's, and the
 * engine serving the project in the engine's. What the objects did during
 * the run is measured where they run, by an EngineMetrics, and asked for
 * over the IPC channel: one answer per second of the run, and one at its end.
 */

type Op = "start" | "sample" | "finish";

export interface MetricsRequest {
  t: "metrics";
  op: Op;
  n: number;
  runId?: string;
}

export interface MetricsAnswer {
  t: "metrics";
  n: number;
  value: unknown;
}

export interface FinishAnswer {
  last: EngineSample | null;
  flags: LimitFlag[];
  usage: RunUsage | null;
  /** Bytes of storage per class, for the run's cost. */
  storageBytes: Record<string, number>;
}

/** The engine's side: answers the run's requests for metrics. */
export function serveLoadMetrics(engine: Engine): void {
  let metrics: EngineMetrics | null = null;
  let usageBefore: UsageSnapshot | null = null;
  let stopSnapshots: (() => void) | null = null;
  const answer = (n: number, value: unknown): void => {
    if (process.connected) process.send!({ t: "metrics", n, value } satisfies MetricsAnswer);
  };
  process.on("message", (m: MetricsRequest) => {
    if (m?.t !== "metrics") return;
    if (m.op === "start") {
      metrics?.stop();
      metrics = new EngineMetrics(engine);
      metrics.start();
      usageBefore = engine.usage?.snapshot() ?? null;
      // The busiest objects are snapshotted every 10 s of the run, as when load serves in one process.
      stopSnapshots?.();
      stopSnapshots = m.runId ? engine.snapshotDuringLoad(m.runId) : null;
      answer(m.n, null);
    } else if (m.op === "sample") {
      answer(m.n, metrics?.sample() ?? null);
    } else {
      void (async () => {
        // The last calls on direct lines are reported a few milliseconds after the fact.
        await engine.lifecycle.settleDirect?.();
        const last = metrics?.sample() ?? null;
        const flags = metrics?.limits.flags() ?? [];
        metrics?.stop();
        metrics = null;
        stopSnapshots?.();
        stopSnapshots = null;
        const after = engine.usage?.snapshot() ?? null;
        const usage =
          usageBefore && after
            ? { windowMs: after.at - usageBefore.at, byClass: usageBetween(usageBefore, after) }
            : null;
        const storageBytes: Record<string, number> = {};
        for (const r of engine.registry.objects())
          storageBytes[r.className] = (storageBytes[r.className] ?? 0) + r.storageBytes;
        answer(m.n, { last, flags, usage, storageBytes } satisfies FinishAnswer);
      })();
    }
  });
}

/**
 * The run's side: asks whichever engine process is ready. While none is
 * (the engine is restarting), a sample is null; the end of the run waits for
 * the next engine. A restarted engine starts measuring afresh: what the dead
 * one had measured since its last sample is lost, and the run's usage (its
 * cost) counts from the restart.
 */
export class RemoteEngineMetrics implements RemoteMetrics {
  #engine: ChildProcess | null = null;
  #runId: string | null = null;
  #next = 1;
  readonly #waiting = new Map<number, (value: unknown) => void>();
  #attached: (() => void)[] = [];
  /** The end-of-run answer, once there is one (for the cost's storage figures). */
  finished: FinishAnswer | null = null;

  /** An engine process is ready; a run in progress starts measuring in it. */
  attach(engine: ChildProcess): void {
    this.#engine = engine;
    // An engine process that ends (stopped, or dying) answers nothing more.
    engine.once("exit", () => this.#answerAll());
    if (this.#runId !== null) void this.#ask("start");
    for (const fn of this.#attached.splice(0)) fn();
  }

  /** The engine process died and is being started again: the end of the run waits for the next one. */
  detach(): void {
    this.#engine = null;
    this.#answerAll();
  }

  #answerAll(): void {
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const resolve of waiting) resolve(null);
  }

  /** A message from the engine process; the answers are ours. */
  message(m: unknown): void {
    const a = m as MetricsAnswer | null;
    if (a?.t !== "metrics") return;
    const resolve = this.#waiting.get(a.n);
    this.#waiting.delete(a.n);
    resolve?.(a.value);
  }

  #ask(op: Op): Promise<unknown> {
    const engine = this.#engine;
    if (!engine?.connected) return Promise.resolve(null);
    const n = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(n, resolve);
      const request: MetricsRequest = { t: "metrics", op, n, ...(this.#runId ? { runId: this.#runId } : {}) };
      engine.send(request, (e) => {
        if (!e) return;
        this.#waiting.delete(n);
        resolve(null);
      });
    });
  }

  async start(runId: string): Promise<void> {
    this.#runId = runId;
    await this.#ask("start");
  }

  async sample(): Promise<EngineSample | null> {
    return (await this.#ask("sample")) as EngineSample | null;
  }

  async finish(): Promise<FinishAnswer | null> {
    if (!this.#engine) await new Promise<void>((resolve) => this.#attached.push(resolve));
    const end = (await this.#ask("finish")) as FinishAnswer | null;
    this.#runId = null;
    this.finished = end;
    return end;
  }
}
