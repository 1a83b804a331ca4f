import type { LoadProfileConfig } from "../config/terrarium.ts";
import { usageBetween } from "../state/usage-meter.ts";
import { GeneratorProcess } from "./client.ts";
import {
  addHeld,
  EngineMetrics,
  noneHeld,
  type EngineSample,
  type HeldBack,
  type MetricsSource,
} from "./metrics.ts";
import type { LimitFlag } from "./limits.ts";
import { describePlan, planLoad, profileThresholds } from "./profile.ts";
import { newRunId } from "./run-id.ts";
import { RunStore, type RunRecord, type RunUsage } from "./runs.ts";
import { HotObjects, runSecond, summarize, type RunSecond, type RunSummary } from "./summary.ts";
import type { Threshold } from "../shared/grammar.ts";

export interface LoadRunOptions {
  /** Defaults to a new run id. */
  id?: string;
  /** The profile's name in terrarium.json, or a label for an ad hoc run. */
  name: string;
  /** A checked profile (parseLoadProfile). */
  profile: LoadProfileConfig;
  /** Base URL under load. */
  url: string;
  /** Where the run is saved (<dataDir>/runs); null saves nothing. */
  dataDir: string | null;
  /** The engine serving `url`, when it is in this process: adds what the objects did. */
  engine?: MetricsSource | null;
  /** The same, measured in the engine's own process (a supervised `terrarium load`); ignored with `engine`. */
  remote?: RemoteMetrics | null;
  /** Thresholds besides the profile's (e.g. from the command line). */
  thresholds?: Threshold[];
  onSecond?: (s: RunSecond) => void;
  /** Aborting ends the run early; what was measured is kept and saved. */
  signal?: AbortSignal;
}

/**
 * What the objects did during a run, measured by an EngineMetrics in the
 * engine's process and asked for over a channel (runtime/cli/load-engine.ts).
 * A sample is null while no engine answers (it is restarting).
 */
export interface RemoteMetrics {
  start(runId: string): Promise<void>;
  sample(): Promise<EngineSample | null>;
  finish(): Promise<{ last: EngineSample | null; flags: LimitFlag[]; usage: RunUsage | null } | null>;
}

/**
 * Runs one profile: a generator process drives the load, the engine's
 * metrics (when the engine is here) are sampled on each of its ticks, and the
 * run is saved with its summary and time series.
 */
export async function runLoad(opts: LoadRunOptions): Promise<RunRecord> {
  const plan = planLoad(opts.name, opts.profile, opts.url);
  const thresholds = [...profileThresholds(opts.profile), ...(opts.thresholds ?? [])];
  const startedAt = Date.now();
  const id = opts.id ?? newRunId(startedAt);
  const metrics = opts.engine ? new EngineMetrics(opts.engine) : null;
  const remote = metrics ? null : (opts.remote ?? null);
  const hot = new HotObjects();
  const series: RunSecond[] = [];

  const generator = await GeneratorProcess.start();
  const onAbort = (): void => generator.stop();
  opts.signal?.addEventListener("abort", onAbort);
  metrics?.start();
  const usageBefore = opts.engine?.usage?.snapshot() ?? null;
  let result;
  let objects: RunSummary["objects"] = null;
  let held: HeldBack | null = metrics || remote ? noneHeld() : null;
  let flags: LimitFlag[] = [];
  let remoteUsage: RunUsage | null = null;
  try {
    await remote?.start(id);
    if (opts.signal?.aborted) generator.stop();
    const onSample = (tick: Parameters<typeof runSecond>[0], sample: EngineSample | null): void => {
      if (sample) {
        hot.add(sample.hottest);
        held = addHeld(held ?? noneHeld(), sample.held);
      }
      const second = runSecond(tick, sample);
      series.push(second);
      opts.onSecond?.(second);
    };
    // A remote sample is an answer to wait for: the seconds stay in order.
    let samples = Promise.resolve();
    result = await generator.run(plan, (tick) => {
      if (!remote) return onSample(tick, metrics?.sample() ?? null);
      samples = samples.then(async () => onSample(tick, await remote.sample()));
    });
    await samples;
    if (metrics) {
      // The last calls on direct lines are reported a few milliseconds after the fact.
      await opts.engine?.lifecycle.settleDirect?.();
      const last = metrics.sample();
      hot.add(last.hottest);
      held = addHeld(held ?? noneHeld(), last.held);
      objects = { byState: last.byState, hottest: hot.top(10) };
      flags = metrics.limits.flags();
    } else if (remote) {
      const end = await remote.finish();
      if (end?.last) {
        hot.add(end.last.hottest);
        held = addHeld(held ?? noneHeld(), end.last.held);
      }
      objects = { byState: end?.last?.byState ?? {}, hottest: hot.top(10) };
      flags = end?.flags ?? [];
      remoteUsage = end?.usage ?? null;
    }
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    metrics?.stop();
    await generator.close();
  }
  const summary = summarize({
    runId: id,
    profile: opts.name,
    description: describePlan(plan),
    url: plan.url,
    startedAt,
    result,
    thresholds,
    objects,
    flags,
    held,
    connections: {
      open: plan.connections,
      maxOutstanding: series.reduce((m, s) => Math.max(m, s.inFlight), 0),
    },
  });
  const run: RunRecord = { id, profile: opts.name, config: opts.profile, plan, startedAt, summary, series };
  const usageAfter = usageBefore && opts.engine?.usage?.snapshot();
  if (usageBefore && usageAfter)
    run.usage = { windowMs: usageAfter.at - usageBefore.at, byClass: usageBetween(usageBefore, usageAfter) };
  else if (remoteUsage) run.usage = remoteUsage;
  if (opts.dataDir) new RunStore(opts.dataDir).save(run);
  return run;
}
