/**
 * What the engine does under load, a window at a time: objects by lifecycle
 * state, and per class and per object the requests, errors, latency and
 * queue (requests in flight). It listens to the engine's `request` events
 * (which the Lifecycle Manager emits only while someone listens) and samples
 * each busy object's in-flight count; it never touches the request path.
 */
import type { LifecycleState } from "../lifecycle/state-machine.ts";
import type { LogEntry, ObjectRecord } from "../registry/registry.ts";
import type { EngineEvents, RequestEvent } from "../shared/events.ts";
import { Histogram } from "./histogram.ts";
import { LimitWatcher } from "./limits.ts";

/** The parts of an Engine the metrics read. */
export interface MetricsSource {
  readonly events: Pick<EngineEvents, "on">;
  readonly lifecycle: { inFlight(id: string): number };
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
}

export interface EngineSample {
  windowMs: number;
  byState: Partial<Record<LifecycleState, number>>;
  classes: ClassLoad[];
  /** The busiest objects of the window, most requests first. */
  hottest: ObjectLoad[];
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
}

const SAMPLE_MS = 100;

export class EngineMetrics {
  readonly #source: MetricsSource;
  readonly #now: () => number;
  readonly #top: number;
  readonly limits = new LimitWatcher();
  #objects = new Map<string, ObjectWindow>();
  #classes = new Map<string, Histogram>();
  #classErrors = new Map<string, number>();
  #windowStart = 0;
  #runStart = 0;
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
    ];
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
      w = {
        className: e.className,
        requests: 0,
        errors: 0,
        sumMs: 0,
        maxMs: 0,
        inFlightMax: 0,
        inFlightSum: 0,
        samples: 0,
      };
      this.#objects.set(e.objectId, w);
    }
    w.requests++;
    w.sumMs += e.durationMs;
    if (e.durationMs > w.maxMs) w.maxMs = e.durationMs;
    // The event comes as the request ends: what is still in flight is the queue behind it.
    this.#sampleOne(e.objectId, w);
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
      };
      loads.push(load);
      if (w.requests > 0) perClass.set(w.className, (perClass.get(w.className) ?? 0) + 1);
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

    const classes: ClassLoad[] = [...this.#classes].map(([className, h]) => ({
      className,
      requests: h.count,
      rps: (h.count / windowMs) * 1000,
      errors: this.#classErrors.get(className) ?? 0,
      objects: perClass.get(className) ?? 0,
      p50Ms: h.percentile(50) / 1000,
      p99Ms: h.percentile(99) / 1000,
      maxMs: h.max / 1000,
    }));

    // Objects still busy carry over (their queue is sampled on), with fresh counts.
    const next = new Map<string, ObjectWindow>();
    for (const [id, w] of this.#objects) {
      if (this.#source.lifecycle.inFlight(id) > 0) {
        next.set(id, {
          ...w,
          requests: 0,
          errors: 0,
          sumMs: 0,
          maxMs: 0,
          inFlightMax: 0,
          inFlightSum: 0,
          samples: 0,
        });
      }
    }
    this.#objects = next;
    this.#classes = new Map();
    this.#classErrors = new Map();
    return { windowMs, byState, classes: classes.filter((c) => c.requests > 0), hottest };
  }
}
