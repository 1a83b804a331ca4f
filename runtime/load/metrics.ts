/**
 * What the engine does under load, a window at a time: objects by lifecycle
 * state, and per class and per object the requests, errors, latency and
 * queue (requests in flight). It listens to the engine's `request` events
 * (which the Lifecycle Manager emits only while someone listens) and samples
 * each busy object's in-flight count; it never touches the request path.
 */
import type { ScalerView } from "../lifecycle/scaler.ts";
import type { UsageSnapshot } from "../state/usage-meter.ts";
import type { LifecycleState } from "../lifecycle/state-machine.ts";
import type { LogEntry, ObjectRecord } from "../registry/registry.ts";
import type { EngineEvents, RequestEvent } from "../shared/events.ts";
import { Histogram } from "./histogram.ts";
import { LimitWatcher, type LimitFlag } from "./limits.ts";

/**
 * The parts of an Engine the metrics read. The optional ones add CPU time
 * (each worker's event-loop busy time, charged to the object it serves),
 * held WebSockets and shard counts when the engine has them.
 */
export interface MetricsSource {
  readonly events: Pick<EngineEvents, "on">;
  /** What the objects used, per class (the cost of a run); absent: the run has no cost estimate. */
  readonly usage?: { snapshot(): UsageSnapshot };
  readonly lifecycle: {
    inFlight(id: string): number;
    readonly slots?: ReadonlyMap<{ cpuUsage(): number }, { object: { record: { id: string } } | null }>;
    readonly sockets?: { list(): readonly { objectId: string | null; hibernatable: boolean }[] };
    shardGroups?(): readonly {
      className: string;
      base: string;
      shards: number;
      seen?: ScalerView | null;
    }[];
    /** Brings in activity workers have not reported yet. */
    settleDirect?(): Promise<void>;
    /** Objects waiting for a worker, and the workers on their way. */
    workerSupply?(): {
      waiting: number;
      longestWaitMs: number;
      pooled: number;
      starting: number;
      lending: number;
    };
  };
  readonly registry: { objects(): Iterable<ObjectRecord>; get(id: string): ObjectRecord | undefined };
  readonly state?: { storageBytes(className: string, id: string): number };
}

export interface ObjectLoad {
  id: string;
  className: string;
  name: string | null;
  requests: number;
  /** Requests per second over the window. */
  rps: number;
  errors: number;
  meanMs: number;
  maxMs: number;
  /** The object's queue: the most requests in flight seen, and their mean over samples. */
  inFlightMax: number;
  inFlightMean: number;
  /** Ms its worker's event loop was busy over the window (CPU time, as near as Node measures it). */
  cpuMs: number;
}

export interface ClassLoad {
  className: string;
  requests: number;
  rps: number;
  errors: number;
  /** Objects that served at least one request in the window. */
  objects: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU time of the class's objects over the window, ms. */
  cpuMs: number;
}

/**
 * A sharding decision: seen as the shard count changing, explained by the
 * cause of the transitions it caused (a new shard's, or the Scaling step of
 * the shards that were there).
 */
export interface ScalingMark {
  /** Ms since the start of the run. */
  at: number;
  className: string;
  /** The sharded object name. */
  base: string;
  from: number;
  to: number;
  cause: string;
}

/**
 * What held requests back in a window, so a slow or hung run says whether
 * the limit was the project (objects slow to initialize), Terrarium's worker
 * supply (objects waiting for a worker thread) or neither.
 */
export interface HeldBack {
  /** The most objects waiting for a worker at once. */
  waitingForWorker: number;
  /** The longest an object had waited for a worker (ongoing waits included), ms. */
  longestWorkerWaitMs: number;
  /** Ms of the window with objects waiting and no pre-started worker free. */
  poolEmptyMs: number;
  /** The most objects in Initializing at once. */
  initializing: number;
  /** The longest an object had been in Initializing (waiting for a worker included), ms. */
  longestInitializingMs: number;
}

export interface EngineSample {
  windowMs: number;
  held: HeldBack;
  byState: Partial<Record<LifecycleState, number>>;
  classes: ClassLoad[];
  /** The busiest objects of the window, most requests first. */
  hottest: ObjectLoad[];
  /**
   * The shard count of every sharded name at the end of the window, and
   * what the scaler last saw of it (its window, mean and target).
   */
  shards: { className: string; base: string; shards: number; seen: ScalerView | null }[];
  /** Sharding decisions made in the window. */
  scaling: ScalingMark[];
  /** Cloudflare limits first passed in the window (the run's summary has them all, with their peaks). */
  flags: LimitFlag[];
}

interface ObjectWindow {
  className: string;
  requests: number;
  errors: number;
  sumMs: number;
  maxMs: number;
  inFlightMax: number;
  inFlightSum: number;
  samples: number;
  cpuMs: number;
}

const SAMPLE_MS = 100;
const SCALING_CAUSE = /scaling (.+?) from (\d+) to (\d+) shards: ([^;]*)/g;

export function noneHeld(): HeldBack {
  return {
    waitingForWorker: 0,
    longestWorkerWaitMs: 0,
    poolEmptyMs: 0,
    initializing: 0,
    longestInitializingMs: 0,
  };
}

/** Folds windows' figures into the run's: maxima stay maxima, times add up. */
export function addHeld(a: HeldBack, b: HeldBack): HeldBack {
  return {
    waitingForWorker: Math.max(a.waitingForWorker, b.waitingForWorker),
    longestWorkerWaitMs: Math.max(a.longestWorkerWaitMs, b.longestWorkerWaitMs),
    poolEmptyMs: a.poolEmptyMs + b.poolEmptyMs,
    initializing: Math.max(a.initializing, b.initializing),
    longestInitializingMs: Math.max(a.longestInitializingMs, b.longestInitializingMs),
  };
}

function emptyWindow(className: string): ObjectWindow {
  return {
    className,
    requests: 0,
    errors: 0,
    sumMs: 0,
    maxMs: 0,
    inFlightMax: 0,
    inFlightSum: 0,
    samples: 0,
    cpuMs: 0,
  };
}

export class EngineMetrics {
  readonly #source: MetricsSource;
  readonly #now: () => number;
  readonly #top: number;
  readonly limits = new LimitWatcher();
  #objects = new Map<string, ObjectWindow>();
  #classes = new Map<string, Histogram>();
  #classErrors = new Map<string, number>();
  /** Each worker's busy time when last read, and the object it was serving then. */
  #hostCpu = new Map<object, { objectId: string; active: number }>();
  #scaling: ScalingMark[] = [];
  /** The shard count last seen per sharded name. */
  #shardCounts = new Map<string, number>();
  /** Marks not yet explained by a transition's cause, per "base from>to". */
  #unexplained = new Map<string, ScalingMark>();
  #windowStart = 0;
  #runStart = 0;
  #held: HeldBack = noneHeld();
  /** Objects in Initializing, since when. */
  #initializingSince = new Map<string, number>();
  #lastSupplyAt = 0;
  #offs: (() => void)[] = [];
  #sampler: NodeJS.Timeout | null = null;

  constructor(source: MetricsSource, opts: { now?: () => number; top?: number } = {}) {
    this.#source = source;
    this.#now = opts.now ?? (() => performance.now());
    this.#top = opts.top ?? 10;
  }

  start(): void {
    this.#runStart = this.#windowStart = this.#now();
    this.#offs = [
      this.#source.events.on("request", (e) => this.#onRequest(e)),
      this.#source.events.on("log", (l) => this.#onLog(l)),
      this.#source.events.on("transition", (t) => {
        if (t.cause.includes("scaling ")) this.#explain(t.cause);
        if (t.to === "Initializing") this.#initializingSince.set(t.objectId, this.#now());
        else if (t.from === "Initializing" || t.to === "Terminating") {
          const since = this.#initializingSince.get(t.objectId);
          this.#initializingSince.delete(t.objectId);
          if (since !== undefined)
            this.#held.longestInitializingMs = Math.max(
              this.#held.longestInitializingMs,
              this.#now() - since,
            );
        }
      }),
    ];
    this.#readCpu();
    this.#watchShards();
    this.#lastSupplyAt = this.#runStart;
    const t = setInterval(() => this.#sampleQueues(), SAMPLE_MS);
    t.unref();
    this.#sampler = t;
  }

  stop(): void {
    for (const off of this.#offs) off();
    this.#offs = [];
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = null;
  }

  #ref(id: string | null) {
    const rec = id ? this.#source.registry.get(id) : undefined;
    return { objectId: id, className: rec?.className ?? null, name: rec?.name ?? null };
  }

  #onRequest(e: RequestEvent): void {
    if (e.objectId === null || e.className === null) return;
    let w = this.#objects.get(e.objectId);
    if (!w) {
      w = emptyWindow(e.className);
      this.#objects.set(e.objectId, w);
    }
    w.requests++;
    w.sumMs += e.durationMs;
    if (e.durationMs > w.maxMs) w.maxMs = e.durationMs;
    // The event comes as the request ends: what is still in flight is the
    // queue behind it. It counts toward the max only: samples taken as
    // requests end fall in busy moments, and would lift the mean above the
    // time-average the scaler compares with its target.
    const n = this.#source.lifecycle.inFlight(e.objectId);
    if (n > w.inFlightMax) w.inFlightMax = n;
    let h = this.#classes.get(e.className);
    if (!h) this.#classes.set(e.className, (h = new Histogram()));
    h.record(e.durationMs * 1000);
    if (!e.ok) {
      w.errors++;
      this.#classErrors.set(e.className, (this.#classErrors.get(e.className) ?? 0) + 1);
    }
    if (!e.ok || e.durationMs > 1000)
      this.limits.request(e, this.#ref(e.objectId), this.#now() - this.#runStart);
  }

  #onLog(l: LogEntry): void {
    if (l.level === "error") this.limits.log(l, this.#ref(l.objectId), this.#now() - this.#runStart);
  }

  #sampleOne(id: string, w: ObjectWindow): void {
    const n = this.#source.lifecycle.inFlight(id);
    w.inFlightSum += n;
    w.samples++;
    if (n > w.inFlightMax) w.inFlightMax = n;
  }

  #sampleQueues(): void {
    for (const [id, w] of this.#objects) this.#sampleOne(id, w);
    this.#readCpu();
    this.#watchShards();
    this.#sampleHeld();
  }

  #sampleHeld(): void {
    const now = this.#now();
    const h = this.#held;
    const supply = this.#source.lifecycle.workerSupply?.();
    if (supply) {
      h.waitingForWorker = Math.max(h.waitingForWorker, supply.waiting);
      h.longestWorkerWaitMs = Math.max(h.longestWorkerWaitMs, supply.longestWaitMs);
      if (supply.waiting > 0 && supply.pooled === 0) h.poolEmptyMs += now - this.#lastSupplyAt;
    }
    this.#lastSupplyAt = now;
    h.initializing = Math.max(h.initializing, this.#initializingSince.size);
    for (const since of this.#initializingSince.values())
      h.longestInitializingMs = Math.max(h.longestInitializingMs, now - since);
  }

  /**
   * Charges each worker's busy time since the last read to the object it
   * serves. A worker that changed hands (lent, or retired and reused) starts
   * a fresh reading: its time in between belongs to no one we can name.
   */
  #readCpu(): void {
    const slots = this.#source.lifecycle.slots;
    if (!slots) return;
    const seen = new Set<object>();
    for (const [host, slot] of slots) {
      const objectId = slot.object?.record.id;
      if (!objectId) continue;
      let active: number;
      try {
        active = host.cpuUsage();
      } catch {
        continue; // a worker that just exited
      }
      seen.add(host);
      const prev = this.#hostCpu.get(host);
      this.#hostCpu.set(host, { objectId, active });
      if (!prev || prev.objectId !== objectId || active <= prev.active) continue;
      const w = this.#objects.get(objectId);
      if (w) w.cpuMs += active - prev.active;
      else {
        const rec = this.#source.registry.get(objectId);
        if (!rec) continue;
        const fresh = emptyWindow(rec.className);
        fresh.cpuMs = active - prev.active;
        this.#objects.set(objectId, fresh);
      }
    }
    for (const host of this.#hostCpu.keys()) if (!seen.has(host)) this.#hostCpu.delete(host);
  }

  /** A mark for every change of a shard count since the last look (a new name is no change). */
  #watchShards(): void {
    const groups = this.#source.lifecycle.shardGroups?.();
    if (!groups) return;
    for (const g of groups) {
      const before = this.#shardCounts.get(g.base);
      this.#shardCounts.set(g.base, g.shards);
      if (before === undefined || before === g.shards) continue;
      const mark: ScalingMark = {
        at: this.#now() - this.#runStart,
        className: g.className,
        base: g.base,
        from: before,
        to: g.shards,
        cause: `from ${before} to ${g.shards} shards`,
      };
      this.#scaling.push(mark);
      this.#unexplained.set(`${g.base} ${before}>${g.shards}`, mark);
    }
  }

  /**
   * Adds the scaler's reason to the marks a transition's cause names. A
   * busy shard takes its Scaling step late, with every decision it missed in
   * its cause ("A; then B"), so each is matched on its own.
   */
  #explain(cause: string): void {
    this.#watchShards();
    for (const m of cause.matchAll(SCALING_CAUSE)) {
      const [, base = "", from = "", to = "", reason = ""] = m;
      const key = `${base} ${from}>${to}`;
      const mark = this.#unexplained.get(key);
      if (!mark) continue;
      mark.cause = `from ${from} to ${to} shards: ${reason.trim()}`;
      this.#unexplained.delete(key);
    }
  }

  /** Closes the current window and starts the next. */
  sample(): EngineSample {
    this.#sampleQueues();
    const now = this.#now();
    const windowMs = Math.max(1, now - this.#windowStart);
    const at = now - this.#runStart;
    this.#windowStart = now;
    const byState: Partial<Record<LifecycleState, number>> = {};
    for (const r of this.#source.registry.objects()) byState[r.state] = (byState[r.state] ?? 0) + 1;

    const loads: ObjectLoad[] = [];
    const perClass = new Map<string, number>();
    const classCpu = new Map<string, number>();
    for (const [id, w] of this.#objects) {
      const rec = this.#source.registry.get(id);
      const load: ObjectLoad = {
        id,
        className: w.className,
        name: rec?.name ?? null,
        requests: w.requests,
        rps: (w.requests / windowMs) * 1000,
        errors: w.errors,
        meanMs: w.requests ? w.sumMs / w.requests : 0,
        maxMs: w.maxMs,
        inFlightMax: w.inFlightMax,
        inFlightMean: w.samples ? w.inFlightSum / w.samples : 0,
        cpuMs: Math.round(w.cpuMs * 10) / 10,
      };
      loads.push(load);
      if (w.requests > 0) perClass.set(w.className, (perClass.get(w.className) ?? 0) + 1);
      classCpu.set(w.className, (classCpu.get(w.className) ?? 0) + w.cpuMs);
      this.limits.requestRate(
        { objectId: id, className: w.className, name: load.name },
        w.requests,
        windowMs,
        at,
      );
    }
    loads.sort((a, b) => b.requests - a.requests || a.id.localeCompare(b.id));
    const hottest = loads.slice(0, this.#top);
    const storage = this.#source.state;
    if (storage) {
      for (const o of hottest) {
        this.limits.storage(
          { objectId: o.id, className: o.className, name: o.name },
          storage.storageBytes(o.className, o.id),
          at,
        );
      }
    }

    const sockets = this.#source.lifecycle.sockets;
    if (sockets) {
      const held = new Map<string, number>();
      for (const s of sockets.list())
        if (s.hibernatable && s.objectId) held.set(s.objectId, (held.get(s.objectId) ?? 0) + 1);
      for (const [id, n] of held) this.limits.sockets(this.#ref(id), n, at);
    }

    const classes: ClassLoad[] = [...this.#classes].map(([className, h]) => ({
      className,
      requests: h.count,
      rps: (h.count / windowMs) * 1000,
      errors: this.#classErrors.get(className) ?? 0,
      objects: perClass.get(className) ?? 0,
      p50Ms: h.percentile(50) / 1000,
      p99Ms: h.percentile(99) / 1000,
      maxMs: h.max / 1000,
      cpuMs: Math.round((classCpu.get(className) ?? 0) * 10) / 10,
    }));

    // Objects still busy carry over (their queue is sampled on), with fresh counts.
    const next = new Map<string, ObjectWindow>();
    for (const [id, w] of this.#objects) {
      if (this.#source.lifecycle.inFlight(id) > 0) next.set(id, emptyWindow(w.className));
    }
    this.#objects = next;
    this.#classes = new Map();
    this.#classErrors = new Map();
    const shards = (this.#source.lifecycle.shardGroups?.() ?? []).map((g) => ({
      className: g.className,
      base: g.base,
      shards: g.shards,
      seen: g.seen ?? null,
    }));
    this.#watchShards();
    const scaling = this.#scaling;
    this.#scaling = [];
    const held = {
      ...this.#held,
      longestWorkerWaitMs: Math.round(this.#held.longestWorkerWaitMs),
      poolEmptyMs: Math.round(this.#held.poolEmptyMs),
      longestInitializingMs: Math.round(this.#held.longestInitializingMs),
    };
    this.#held = noneHeld();
    return {
      windowMs,
      held,
      byState,
      classes: classes.filter((c) => c.requests > 0),
      hottest,
      shards,
      scaling,
      flags: this.limits.fresh(),
    };
  }
}
