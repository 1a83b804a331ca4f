import type { LifecycleState, LoadStatus, RunRecord } from "../../../../runtime/api/contract.ts";

// What the Load tab draws, computed from a run's seconds: plain functions of
// plain data (no React, no uPlot), so they are tested on their own.

export type RunSecond = RunRecord["series"][number];
export type LevelPoint = NonNullable<LoadStatus["active"]>["levels"][number];
export type LimitFlag = RunRecord["summary"]["flags"][number];
type EngineSample = NonNullable<RunSecond["engine"]>;
export type HeldBack = EngineSample["held"];
export type ScalingMark = EngineSample["scaling"][number];

export const PERCENTILES = ["p50", "p90", "p99", "p99.9"] as const;

/** How a column folds when seconds are merged into one point. */
type Fold = "mean" | "max" | "last";

/** Columns of numbers over one x axis (seconds since the start), as uPlot takes them. */
export interface Columns {
  readonly x: number[];
  readonly columns: Record<string, (number | null)[]>;
  readonly folds: Record<string, Fold>;
}

/** The charts of a run: one set of columns each, all on the same seconds. */
export interface RunCharts {
  readonly throughput: Columns;
  readonly latency: Columns;
  readonly errors: Columns;
  readonly objects: Columns;
}

/** States drawn on the objects chart: the live ones (Hibernating and Created objects cost nothing). */
export const LIVE_STATES = [
  "Initializing",
  "Active",
  "Processing",
  "Updating",
  "Scaling",
  "Idle",
] as const satisfies readonly LifecycleState[];

function columns(
  x: number[],
  spec: Record<string, [Fold, (s: RunSecond) => number | null]>,
  series: readonly RunSecond[],
): Columns {
  const cols: Record<string, (number | null)[]> = {};
  const folds: Record<string, Fold> = {};
  for (const [name, [fold, pick]] of Object.entries(spec)) {
    cols[name] = series.map(pick);
    folds[name] = fold;
  }
  return { x, columns: cols, folds };
}

/** The error kinds a run saw, in a stable order (HTTP first). */
export function errorKinds(series: readonly RunSecond[]): string[] {
  const kinds = new Set<string>();
  for (const s of series) for (const [k, v] of Object.entries(s.errorsByKind)) if (v) kinds.add(k);
  return [...kinds].sort(
    (a, b) => Number(!a.startsWith("http")) - Number(!b.startsWith("http")) || a.localeCompare(b),
  );
}

/** Shards of every sharded name together, or null when the engine was not in reach. */
function shardTotal(s: RunSecond): number | null {
  if (!s.engine || s.engine.shards.length === 0) return null;
  return s.engine.shards.reduce((n, g) => n + g.shards, 0);
}

export function runCharts(series: readonly RunSecond[]): RunCharts {
  const x = series.map((s) => s.t);
  const kinds = errorKinds(series);
  const errorSpec: Record<string, [Fold, (s: RunSecond) => number | null]> = {};
  for (const k of kinds)
    errorSpec[k] = ["mean", (s) => s.errorsByKind[k as keyof RunSecond["errorsByKind"]] ?? 0];
  const stateSpec: Record<string, [Fold, (s: RunSecond) => number | null]> = {};
  for (const st of LIVE_STATES)
    stateSpec[st] = ["last", (s) => (s.engine ? (s.engine.byState[st] ?? 0) : null)];
  stateSpec["shards"] = ["last", shardTotal];
  return {
    throughput: columns(
      x,
      {
        answered: ["mean", (s) => s.rps],
        target: ["mean", (s) => s.level],
        "in flight": ["max", (s) => s.inFlight],
      },
      series,
    ),
    latency: columns(
      x,
      Object.fromEntries(PERCENTILES.map((p) => [p, ["max", (s: RunSecond) => s.latencyMs[p]]])) as Record<
        string,
        [Fold, (s: RunSecond) => number | null]
      >,
      series,
    ),
    errors: columns(x, errorSpec, series),
    objects: columns(x, stateSpec, series),
  };
}

/**
 * At most `max` points: consecutive seconds merged into buckets of equal
 * size. Rates take their mean, latency its worst (a spike stays visible),
 * gauges the last value; null only when every second in a bucket was null.
 */
export function downsample(c: Columns, max: number): Columns {
  const n = c.x.length;
  if (n <= max || max < 1) return c;
  const size = Math.ceil(n / max);
  const x: number[] = [];
  const out: Record<string, (number | null)[]> = {};
  for (const name of Object.keys(c.columns)) out[name] = [];
  for (let i = 0; i < n; i += size) {
    const end = Math.min(n, i + size);
    x.push(c.x[end - 1]!);
    for (const [name, col] of Object.entries(c.columns)) {
      const vals = col.slice(i, end).filter((v): v is number => v !== null);
      let v: number | null = null;
      if (vals.length) {
        const fold = c.folds[name] ?? "mean";
        v =
          fold === "max"
            ? Math.max(...vals)
            : fold === "last"
              ? vals[vals.length - 1]!
              : vals.reduce((a, b) => a + b, 0) / vals.length;
      }
      out[name]!.push(v);
    }
  }
  return { x, columns: out, folds: c.folds };
}

/** A stretch of the profile's level curve, in seconds. */
export interface StageBand {
  readonly from: number;
  readonly to: number;
  readonly kind: "ramp" | "hold" | "spike";
  readonly fromLevel: number;
  readonly toLevel: number;
}

/**
 * The profile's stages as bands on the time axis. Two corners at the same
 * time are a step; a flat stretch between a step up and a step down is the
 * spike (that is how the plan draws one).
 */
export function stageBands(levels: readonly LevelPoint[]): StageBand[] {
  const out: StageBand[] = [];
  for (let i = 0; i + 1 < levels.length; i++) {
    const a = levels[i]!;
    const b = levels[i + 1]!;
    if (b.t === a.t) continue;
    const prev = levels[i - 1];
    const next = levels[i + 2];
    const steppedUp = prev !== undefined && prev.t === a.t && prev.level < a.level;
    const stepsDown = next !== undefined && next.t === b.t && next.level < b.level;
    const kind = a.level === b.level ? (steppedUp && stepsDown ? "spike" : "hold") : "ramp";
    out.push({ from: a.t / 1000, to: b.t / 1000, kind, fromLevel: a.level, toLevel: b.level });
  }
  return out;
}

/** Every sharding decision of a run, in order, with its time in seconds. */
export function scalingMarks(series: readonly RunSecond[]): (ScalingMark & { readonly t: number })[] {
  return series.flatMap((s) => (s.engine?.scaling ?? []).map((m) => ({ ...m, t: m.at / 1000 })));
}

/** Limit flags a live run has raised so far, one per kind and object. */
export function liveFlags(series: readonly RunSecond[]): LimitFlag[] {
  const seen = new Map<string, LimitFlag>();
  for (const s of series) for (const f of s.engine?.flags ?? []) seen.set(`${f.kind} ${f.objectId ?? ""}`, f);
  return [...seen.values()];
}

export interface ClassRow {
  readonly className: string;
  readonly requests: number;
  readonly rps: number;
  readonly errors: number;
  readonly objects: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU ms per second of the run. */
  readonly cpuMsPerSec: number;
}

/**
 * Per class over the last `window` seconds (the whole run by default):
 * requests, their rate, the busiest second's objects, and latency as the
 * worst second's percentile (percentiles of seconds cannot be merged).
 */
export function classRows(series: readonly RunSecond[], window = Infinity): ClassRow[] {
  const part = series.slice(Math.max(0, series.length - window));
  const secs = part.reduce((n, s) => n + (s.engine?.windowMs ?? s.windowMs), 0) / 1000;
  const by = new Map<
    string,
    { requests: number; errors: number; objects: number; p50: number; p99: number; cpu: number }
  >();
  for (const s of part) {
    for (const c of s.engine?.classes ?? []) {
      const r = by.get(c.className) ?? { requests: 0, errors: 0, objects: 0, p50: 0, p99: 0, cpu: 0 };
      r.requests += c.requests;
      r.errors += c.errors;
      r.objects = Math.max(r.objects, c.objects);
      r.p50 = Math.max(r.p50, c.p50Ms);
      r.p99 = Math.max(r.p99, c.p99Ms);
      r.cpu += c.cpuMs;
      by.set(c.className, r);
    }
  }
  return [...by]
    .map(([className, r]) => ({
      className,
      requests: r.requests,
      rps: secs ? r.requests / secs : 0,
      errors: r.errors,
      objects: r.objects,
      p50Ms: r.p50,
      p99Ms: r.p99,
      cpuMsPerSec: secs ? r.cpu / secs : 0,
    }))
    .sort((a, b) => b.requests - a.requests || a.className.localeCompare(b.className));
}

// ---- comparing two runs ----

export interface CompareRow {
  readonly label: string;
  readonly unit: "req/s" | "ms" | "%" | "";
  readonly a: number;
  readonly b: number;
  /** b - a. */
  readonly delta: number;
  /** (b - a) / a, or null when a is 0. */
  readonly ratio: number | null;
  /** Whether B did better than A on this number, worse, or the same. */
  readonly verdict: "better" | "worse" | "same";
}

type Summary = RunRecord["summary"];

const COMPARED: readonly {
  label: string;
  unit: CompareRow["unit"];
  higherIsBetter: boolean | null;
  pick: (s: Summary) => number;
}[] = [
  {
    label: "Throughput (answered)",
    unit: "req/s",
    higherIsBetter: true,
    pick: (s) => s.throughput.completed,
  },
  { label: "Requests sent", unit: "", higherIsBetter: null, pick: (s) => s.requests.sent },
  { label: "Error rate", unit: "%", higherIsBetter: false, pick: (s) => s.errorRate * 100 },
  { label: "Latency p50", unit: "ms", higherIsBetter: false, pick: (s) => s.latencyMs.p50 },
  { label: "Latency p90", unit: "ms", higherIsBetter: false, pick: (s) => s.latencyMs.p90 },
  { label: "Latency p99", unit: "ms", higherIsBetter: false, pick: (s) => s.latencyMs.p99 },
  { label: "Latency p99.9", unit: "ms", higherIsBetter: false, pick: (s) => s.latencyMs["p99.9"] },
  { label: "Latency max", unit: "ms", higherIsBetter: false, pick: (s) => s.latencyMs.max },
  { label: "Limit flags", unit: "", higherIsBetter: false, pick: (s) => s.flags.length },
];

/** Differences smaller than this share of the larger value count as the same. */
const SAME = 0.02;

export function compareRuns(a: Summary, b: Summary): CompareRow[] {
  return COMPARED.map((m) => {
    const x = m.pick(a);
    const y = m.pick(b);
    const delta = y - x;
    const scale = Math.max(Math.abs(x), Math.abs(y));
    const same = scale === 0 || Math.abs(delta) / scale < SAME;
    const verdict =
      m.higherIsBetter === null || same ? "same" : delta > 0 === m.higherIsBetter ? "better" : "worse";
    return { label: m.label, unit: m.unit, a: x, b: y, delta, ratio: x === 0 ? null : delta / x, verdict };
  });
}

/**
 * One column of two runs on a shared x axis (seconds since each run's
 * start), for drawing them over each other: gaps are null where one run has
 * no such second.
 */
export function overlay(
  a: readonly RunSecond[],
  b: readonly RunSecond[],
  pick: (s: RunSecond) => number,
): { x: number[]; a: (number | null)[]; b: (number | null)[] } {
  const ta = new Map(a.map((s) => [s.t, pick(s)]));
  const tb = new Map(b.map((s) => [s.t, pick(s)]));
  const x = [...new Set([...ta.keys(), ...tb.keys()])].sort((p, q) => p - q);
  return { x, a: x.map((t) => ta.get(t) ?? null), b: x.map((t) => tb.get(t) ?? null) };
}

/**
 * A run's mark in the list: ✗ when a threshold failed; ✓ when the run's
 * thresholds held, or when it had none and every request was answered
 * without error; otherwise a warning, as errors with no threshold are not a
 * pass.
 */
export function runVerdict(r: {
  readonly ok: boolean;
  readonly errorRate: number;
  readonly thresholds?: number;
}): { mark: string; kind: "ok" | "failed" | "warn"; title: string } {
  if (!r.ok) return { mark: "✗", kind: "failed", title: "a threshold failed" };
  if (r.thresholds) return { mark: "✓", kind: "ok", title: "every threshold held" };
  if (r.errorRate > 0)
    return {
      mark: "!",
      kind: "warn",
      title: `${(r.errorRate * 100).toFixed(1)}% errors, and no threshold to judge them by`,
    };
  return { mark: "✓", kind: "ok", title: "no errors (the run has no thresholds)" };
}

/**
 * What is holding requests back in a live run, over its last `window`
 * seconds: objects waiting for a worker, how long no pre-started worker was
 * free, objects stuck in Initializing, and requests in flight with no
 * answer. Empty when nothing is held back.
 */
export function liveHeld(series: readonly RunSecond[], window = 5): string[] {
  const part = series.slice(-window);
  if (!part.length) return [];
  const secs = part.reduce((n, s) => n + s.windowMs, 0) / 1000;
  let waiting = 0;
  let wait = 0;
  let empty = 0;
  let init = 0;
  let initMs = 0;
  let seen = false;
  for (const s of part) {
    const h = s.engine?.held;
    if (!h) continue;
    seen = true;
    waiting = Math.max(waiting, h.waitingForWorker);
    wait = Math.max(wait, h.longestWorkerWaitMs);
    empty += h.poolEmptyMs;
    init = Math.max(init, h.initializing);
    initMs = Math.max(initMs, h.longestInitializingMs);
  }
  const out: string[] = [];
  const s1 = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  if (seen && waiting > 0)
    out.push(
      `${waiting} object${waiting === 1 ? "" : "s"} waiting for a worker thread (the longest ${s1(wait)}); no pre-started worker free for ${s1(empty)} of the last ${secs.toFixed(0)} s. Terrarium starts two threads at a time on this machine.`,
    );
  if (seen && initMs >= 1000)
    out.push(
      `Up to ${init} object${init === 1 ? "" : "s"} in Initializing, the longest for ${s1(initMs)}${wait >= initMs / 2 ? ", mostly waiting for a worker" : ": the project's constructors are slow"}.`,
    );
  const last = part[part.length - 1]!;
  const hung = last.inFlight > 0 && last.completed === 0;
  const slow = last.latencyMs.p50 >= 1000;
  if (!out.length && seen && (hung || slow))
    out.push(
      `No object is waiting for a worker or stuck in Initializing, yet requests take ${s1(last.latencyMs.p50)} (p50): the time goes in the objects' own code (the project).`,
    );
  if (hung) out.unshift(`${last.inFlight} requests in flight and none answered in the last second.`);
  return out;
}
