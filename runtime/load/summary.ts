import type { ErrorKind, GeneratorResult, GeneratorTick, WsStats } from "./generator.ts";
import { Histogram, type HistogramJson } from "./histogram.ts";
import { count } from "./format.ts";
import type { LimitFlag } from "./limits.ts";
import type { EngineSample, HeldBack, ObjectLoad } from "./metrics.ts";
import { thresholdHolds, type Threshold } from "../shared/grammar.ts";

export interface LatencySummary {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  "p99.9": number;
  max: number;
}

/** The busiest objects over a whole run. */
export interface HotObject {
  id: string;
  className: string;
  name: string | null;
  requests: number;
  /** The most requests it served in one second. */
  peakRps: number;
  meanMs: number;
  maxMs: number;
  inFlightMax: number;
  /** CPU time over the run (its worker's event-loop busy time), ms. */
  cpuMs: number;
}

/** What `terrarium load --json` prints, and what a saved run keeps as its result. */
export interface RunSummary {
  runId: string;
  profile: string;
  description: string;
  url: string;
  startedAt: number;
  elapsedMs: number;
  requests: {
    sent: number;
    /** Answered with any status. */
    completed: number;
    /** Sent but never answered: timeout, refused, reset, dropped, unfinished, other. */
    failed: number;
    /** Due but never sent: the open model's cap on requests outstanding was reached. */
    dropped: number;
  };
  errors: Partial<Record<ErrorKind, number>>;
  /** (HTTP 4xx and 5xx + failed + dropped) / (sent + dropped). */
  errorRate: number;
  statuses: Record<string, number>;
  /** Requests per second over the run. */
  throughput: { sent: number; completed: number };
  /** Of answered requests, measured from when each was due; ms. */
  latencyMs: LatencySummary;
  thresholds: { threshold: string; actual: number; ok: boolean }[];
  /** False when a threshold failed. */
  ok: boolean;
  generator: { cpuMs: number; cpuCores: number; maxLagMs: number };
  websockets: WsStats | null;
  /** Present when the engine ran in the same process (no --url). */
  objects: { byState: EngineSample["byState"]; hottest: HotObject[] } | null;
  flags: LimitFlag[];
  /** What held requests back over the run (when the engine was in reach). */
  held: HeldBack | null;
  /**
   * Why requests were slow or unanswered, one sentence each, naming the
   * limit: the project, Terrarium's worker supply, or the machine. Empty when
   * nothing held them back.
   */
  heldBack: string[];
  errorSamples: string[];
}

/** One second of a run: the generator's view, and the engine's when it is in reach. */
export interface RunSecond {
  t: number;
  windowMs: number;
  level: number;
  sent: number;
  completed: number;
  errors: number;
  errorsByKind: Partial<Record<ErrorKind, number>>;
  rps: number;
  latencyMs: Pick<LatencySummary, "p50" | "p90" | "p99" | "p99.9" | "max">;
  inFlight: number;
  ws: WsStats | null;
  engine: EngineSample | null;
}

const FAILED: readonly ErrorKind[] = ["timeout", "refused", "reset", "dropped", "unfinished", "other"];

export function latencySummary(json: HistogramJson): LatencySummary {
  const h = Histogram.fromJSON(json);
  const toMs = (us: number): number => Math.round(us) / 1000;
  return {
    min: toMs(h.min),
    mean: toMs(h.mean),
    p50: toMs(h.percentile(50)),
    p90: toMs(h.percentile(90)),
    p95: toMs(h.percentile(95)),
    p99: toMs(h.percentile(99)),
    "p99.9": toMs(h.percentile(99.9)),
    max: toMs(h.max),
  };
}

function errorCount(errors: Partial<Record<ErrorKind, number>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(errors)) if (!k.startsWith("ws_")) n += v;
  return n;
}

export function runSecond(tick: GeneratorTick, engine: EngineSample | null): RunSecond {
  const l = latencySummary(tick.latency);
  return {
    t: tick.second,
    windowMs: Math.round(tick.windowMs),
    level: Math.round(tick.level * 100) / 100,
    sent: tick.sent,
    completed: tick.completed,
    errors: errorCount(tick.errors),
    errorsByKind: tick.errors,
    // NOTE: a run's last window is what was left when the run ended, often a
    // few ms holding a straggler or two: as a rate over its own length it
    // would be drawn as a spike (1 answer in 2 ms is 500 req/s). A window
    // shorter than a second counts what it answered, per second of the axis.
    rps: Math.round((tick.completed / Math.max(1000, tick.windowMs)) * 1000 * 10) / 10,
    latencyMs: { p50: l.p50, p90: l.p90, p99: l.p99, "p99.9": l["p99.9"], max: l.max },
    inFlight: tick.inFlight,
    ws: tick.ws,
    engine,
  };
}

/** Folds each second's hottest objects into the run's. */
export class HotObjects {
  readonly #all = new Map<string, HotObject & { sumMs: number }>();

  add(objects: readonly ObjectLoad[]): void {
    for (const o of objects) {
      let h = this.#all.get(o.id);
      if (!h) {
        h = {
          id: o.id,
          className: o.className,
          name: o.name,
          requests: 0,
          peakRps: 0,
          meanMs: 0,
          maxMs: 0,
          inFlightMax: 0,
          cpuMs: 0,
          sumMs: 0,
        };
        this.#all.set(o.id, h);
      }
      h.name ??= o.name;
      h.requests += o.requests;
      h.sumMs += o.meanMs * o.requests;
      h.meanMs = h.requests ? h.sumMs / h.requests : 0;
      h.peakRps = Math.max(h.peakRps, o.rps);
      h.maxMs = Math.max(h.maxMs, o.maxMs);
      h.inFlightMax = Math.max(h.inFlightMax, o.inFlightMax);
      h.cpuMs += o.cpuMs;
    }
  }

  top(n: number): HotObject[] {
    return [...this.#all.values()]
      .sort((a, b) => b.requests - a.requests || a.id.localeCompare(b.id))
      .slice(0, n)
      .map(({ sumMs: _sumMs, ...h }) => ({
        ...h,
        peakRps: Math.round(h.peakRps),
        meanMs: Math.round(h.meanMs * 1000) / 1000,
        maxMs: Math.round(h.maxMs * 1000) / 1000,
        cpuMs: Math.round(h.cpuMs),
      }));
  }
}

const secs1 = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * What held requests back, in words: each figure with the limit it points
 * at. A run that waited on nothing and answered everything says nothing.
 */
export function explainHeld(opts: {
  held: HeldBack | null;
  sent: number;
  /** Sent but never answered (timeouts, resets, the run's end). */
  unanswered: number;
  /** Due but never sent: the generator's cap on requests outstanding. */
  dropped: number;
  p50Ms: number;
  generator: { cpuCores: number; maxLagMs: number };
  /** The generator's connections, and the most requests it had outstanding in a second. */
  connections?: { open: number; maxOutstanding: number };
}): string[] {
  const out: string[] = [];
  const h = opts.held;
  const slow = opts.p50Ms >= 1000 || opts.unanswered > 0 || opts.dropped > 0;
  if (opts.unanswered > 0)
    out.push(
      `${count(opts.unanswered)} of ${count(opts.sent)} requests got no answer before the run gave up on them.`,
    );
  if (opts.dropped > 0)
    out.push(
      `${count(opts.dropped)} requests were never sent: the generator's cap on requests outstanding was reached, because answers came slower than requests were due.`,
    );
  const c = opts.connections;
  if (slow && c && c.maxOutstanding > c.open)
    out.push(
      `The load generator keeps ${count(c.open)} connections: up to ${count(c.maxOutstanding - c.open)} requests waited in it for one (their latency counts that wait); the server saw at most ${count(c.open)} at once.`,
    );
  if (h && h.waitingForWorker > 0 && (h.longestWorkerWaitMs >= 250 || slow)) {
    out.push(
      `Terrarium's worker supply: up to ${count(h.waitingForWorker)} objects waited for a worker thread at once, the longest for ${secs1(h.longestWorkerWaitMs)}; no pre-started worker was free for ${secs1(h.poolEmptyMs)} of the run. New objects need a thread each, and this machine starts two at a time.`,
    );
  }
  if (h && h.longestInitializingMs >= 1000) {
    const waited = h.longestWorkerWaitMs;
    const own = h.longestInitializingMs - waited;
    out.push(
      own >= 500
        ? `The project: objects stayed in Initializing for up to ${secs1(h.longestInitializingMs)} (${secs1(Math.max(0, own))} more than any wait for a worker): their constructors (or blockConcurrencyWhile) are slow.`
        : `Objects stayed in Initializing for up to ${secs1(h.longestInitializingMs)}, up to ${count(h.initializing)} at once, nearly all of it waiting for a worker.`,
    );
  }
  if (slow && (opts.generator.maxLagMs >= 250 || opts.generator.cpuCores >= 0.9)) {
    out.push(
      `The machine: the load generator itself used ${opts.generator.cpuCores.toFixed(2)} cores and started requests up to ${secs1(opts.generator.maxLagMs)} late.`,
    );
  }
  const generatorLines = (opts.unanswered > 0 ? 1 : 0) + (opts.dropped > 0 ? 1 : 0);
  const connectionLine = slow && c && c.maxOutstanding > c.open ? 1 : 0;
  if (slow && out.length === generatorLines + connectionLine)
    out.push(
      h
        ? "No object waited for a worker or stayed long in Initializing: the time went in the objects' own handlers (the project)."
        : "The engine was not in reach of this run (--url), so what held requests back there is not known.",
    );
  return out;
}

export function summarize(opts: {
  runId: string;
  profile: string;
  description: string;
  url: string;
  startedAt: number;
  result: GeneratorResult;
  thresholds: readonly Threshold[];
  objects: RunSummary["objects"];
  flags: LimitFlag[];
  held?: HeldBack | null;
  connections?: { open: number; maxOutstanding: number };
}): RunSummary {
  const r = opts.result;
  const dropped = r.errors.backlog ?? 0;
  const failed = FAILED.reduce((n, k) => n + (r.errors[k] ?? 0), 0);
  const httpErrors = (r.errors.http_4xx ?? 0) + (r.errors.http_5xx ?? 0);
  const attempts = r.sent + dropped;
  const errorRate = attempts ? (httpErrors + failed + dropped) / attempts : 0;
  const secs = r.elapsedMs / 1000;
  const latency = latencySummary(r.latency);
  const throughput = {
    sent: Math.round((r.sent / secs) * 10) / 10,
    completed: Math.round((r.completed / secs) * 10) / 10,
  };
  const thresholds = opts.thresholds.map((t) => {
    let actual: number;
    if (t.metric === "errors") actual = t.percent ? errorRate : errorCount(r.errors);
    else if (t.metric === "rps") actual = throughput.completed;
    else actual = latency[t.metric];
    return { threshold: t.source, actual, ok: thresholdHolds(t, actual) };
  });
  return {
    runId: opts.runId,
    profile: opts.profile,
    description: opts.description,
    url: opts.url,
    startedAt: opts.startedAt,
    elapsedMs: Math.round(r.elapsedMs),
    requests: { sent: r.sent, completed: r.completed, failed, dropped },
    errors: r.errors,
    errorRate,
    statuses: r.statuses,
    throughput,
    latencyMs: latency,
    thresholds,
    ok: thresholds.every((t) => t.ok),
    generator: {
      cpuMs: Math.round(r.cpuMs),
      cpuCores: Math.round((r.cpuMs / r.elapsedMs) * 100) / 100,
      maxLagMs: Math.round(r.maxLagMs * 10) / 10,
    },
    websockets: r.ws,
    objects: opts.objects,
    flags: opts.flags,
    held: opts.held ?? null,
    heldBack: explainHeld({
      held: opts.held ?? null,
      sent: r.sent,
      unanswered: failed,
      dropped,
      p50Ms: latency.p50,
      generator: {
        cpuCores: Math.round((r.cpuMs / r.elapsedMs) * 100) / 100,
        maxLagMs: r.maxLagMs,
      },
      ...(opts.connections ? { connections: opts.connections } : {}),
    }),
    errorSamples: r.errorSamples,
  };
}

// ---- text ----

function ms(v: number): string {
  if (v >= 1000) return `${(v / 1000).toFixed(2)}s`;
  if (v >= 100) return `${v.toFixed(0)}ms`;
  return `${v.toFixed(2)}ms`;
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(22, ".")}: ${value}\n`;
}

function thresholdValue(t: RunSummary["thresholds"][number]): string {
  if (t.threshold.startsWith("errors"))
    return t.threshold.includes("%") ? `${(t.actual * 100).toFixed(2)}%` : count(t.actual);
  if (t.threshold.startsWith("rps")) return `${t.actual.toFixed(1)}/s`;
  return ms(t.actual);
}

/** One line per second while a run goes. */
export function progressLine(s: RunSecond): string {
  const errs = s.errors ? `  errors ${count(s.errors)}` : "";
  let line = `  ${String(s.t).padStart(4)}s  ${count(s.rps).padStart(6)} req/s  p50 ${ms(s.latencyMs.p50)}  p99 ${ms(s.latencyMs.p99)}  in flight ${count(s.inFlight)}${errs}`;
  if (s.engine) {
    const states = Object.entries(s.engine.byState)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    const hot = s.engine.hottest[0];
    line += `  | ${states}`;
    if (hot) line += `  | hottest ${hot.name ?? hot.id.slice(0, 8)} ${count(hot.rps)}/s q${hot.inFlightMax}`;
  }
  return `${line}\n`;
}

/** The k6-like summary printed at the end of `terrarium load`. */
export function formatSummary(s: RunSummary): string {
  let out = `\n  run ${s.runId}: ${s.profile} — ${s.description}\n  target ${s.url}\n\n`;
  if (s.thresholds.length) {
    for (const t of s.thresholds)
      out += `  ${t.ok ? "✓" : "✗"} ${t.threshold.padEnd(20)} ${thresholdValue(t)}\n`;
    out += "\n";
  }
  const l = s.latencyMs;
  out += row(
    "latency (from due)",
    `avg=${ms(l.mean)} min=${ms(l.min)} med=${ms(l.p50)} p(90)=${ms(l.p90)} p(99)=${ms(l.p99)} p(99.9)=${ms(l["p99.9"])} max=${ms(l.max)}`,
  );
  out += row(
    "requests",
    `${count(s.requests.sent)} sent, ${count(s.requests.completed)} answered  ${s.throughput.completed.toFixed(1)}/s`,
  );
  const failedPart = s.requests.failed ? `, ${count(s.requests.failed)} without answer` : "";
  out += row(
    "errors",
    `${(s.errorRate * 100).toFixed(2)}%${failedPart}${s.requests.dropped ? `, ${count(s.requests.dropped)} never sent (backlog)` : ""}`,
  );
  const kinds = Object.entries(s.errors);
  if (kinds.length) out += row("errors by kind", kinds.map(([k, v]) => `${k}=${count(v)}`).join(" "));
  out += row(
    "statuses",
    Object.entries(s.statuses)
      .map(([k, v]) => `${k}=${count(v)}`)
      .join(" ") || "none",
  );
  if (s.websockets) {
    const w = s.websockets;
    out += row(
      "websockets",
      `${count(w.opened)} opened, ${count(w.sent)} messages sent, ${count(w.received)} received`,
    );
  }
  out += row(
    "generator",
    `${s.generator.cpuCores.toFixed(2)} cores busy, worst start lag ${ms(s.generator.maxLagMs)}`,
  );
  if (s.objects) {
    const states = Object.entries(s.objects.byState)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    out += row("objects at the end", states || "none");
    if (s.objects.hottest.length) {
      out += "  hottest objects:\n";
      for (const h of s.objects.hottest.slice(0, 5)) {
        out += `    ${h.className} ${h.name ?? h.id.slice(0, 16)}  ${count(h.requests)} requests, peak ${count(h.peakRps)}/s, mean ${ms(h.meanMs)}, max ${ms(h.maxMs)}, in flight up to ${h.inFlightMax}, CPU ${ms(h.cpuMs)}\n`;
      }
    }
  }
  if (s.flags.length) {
    out += "\n  Cloudflare limits passed:\n";
    for (const f of s.flags) {
      const who = f.objectId
        ? `${f.className ?? "object"} ${f.name ?? f.objectId.slice(0, 16)}`
        : "the project";
      out += `  ! ${who}: ${f.observed} (limit: ${f.limit})\n      ${f.advice}\n`;
    }
  }
  if (s.heldBack?.length) {
    out += "\n  what held requests back:\n";
    for (const line of s.heldBack) out += `  - ${line}\n`;
  }
  if (s.errorSamples.length) {
    out += "\n  first errors:\n";
    for (const e of s.errorSamples.slice(0, 5)) out += `    ${e}\n`;
  }
  return out;
}
