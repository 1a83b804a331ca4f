import { newSpanId, newTraceId, type TraceContext } from "../shared/trace-context.ts";
import { TraceDb, type TraceBatch } from "./trace-db.ts";
import {
  wallNow,
  type OpenSpan,
  type SpanInfo,
  type SpanKind,
  type SpanRecord,
  type TraceDetail,
  type TraceLog,
  type TraceQuery,
  type TraceSummary,
} from "./trace-records.ts";

/**
 * Traces across objects (docs/traces.md): every request through the router,
 * and every alarm and Event Bus delivery no request caused, as a tree of
 * spans, kept in `<data>/traces.sqlite` up to a cap (the oldest traces are
 * dropped). Spans are recorded on the main thread: the orchestrator opens
 * one around each event it hands a worker, and records the ones that ran
 * elsewhere (direct lines between workers, outbound fetches to mock
 * endpoints) from the reports the workers send anyway. Writes are batched.
 */

export { wallNow } from "./trace-records.ts";
export type {
  OpenSpan,
  SpanInfo,
  SpanKind,
  SpanRecord,
  TraceDetail,
  TraceLog,
  TraceQuery,
  TraceSummary,
} from "./trace-records.ts";

export const DEFAULT_MAX_TRACES = 10_000;
/**
 * New request traces per second at most, by default: past it (a load run on
 * a hot object) requests go untraced, so tracing's cost stays bounded.
 */
export const DEFAULT_TRACES_PER_SECOND = 200;
const FLUSH_MS = 200;

/** Traces whose root has not ended, most kept in memory at once (their spans wait with them). */
const MAX_OPEN = 20_000;

/**
 * The project's traces: spans opened and ended on the main thread, spans
 * reported from elsewhere, and log lines under their spans, written in
 * batches to `<data>/traces.sqlite` and read back for the Inspector, the
 * CLI and the MCP server. Holds at most `maxTraces` traces.
 *
 * A trace's spans wait in memory until its root ends, then go to disk in
 * one row with the trace's summary (one insert per request, whatever its
 * number of spans); spans that end later (a delivery of an event the
 * request published) are added in rows of their own.
 */
export class TraceStore {
  readonly #db: TraceDb;
  readonly #maxTraces: number;
  #sample: number;
  readonly #perSecond: number;
  readonly #now: () => number;
  #second = 0;
  #inSecond = 0;
  /** Spans of traces whose root is still running. */
  readonly #open = new Map<string, SpanRecord[]>();
  /** What the next flush writes: traces whose root ended, spans of traces already written (or whose root this store never saw), log lines. */
  #pending: TraceBatch = { done: [], late: [], logs: [] };
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(
    dataDir: string | null,
    opts: {
      maxTraces?: number | undefined;
      sample?: number | undefined;
      perSecond?: number | undefined;
      /** Milliseconds for the per-second cap (tests pass their own). */
      now?: () => number;
    } = {},
  ) {
    this.#maxTraces = Math.max(1, opts.maxTraces ?? DEFAULT_MAX_TRACES);
    this.#db = new TraceDb(dataDir, this.#maxTraces);
    this.#sample = Math.min(1, Math.max(0, opts.sample ?? 1));
    this.#perSecond = opts.perSecond ?? DEFAULT_TRACES_PER_SECOND;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The most traces kept. */
  get max(): number {
    return this.#maxTraces;
  }

  /** The share of requests traced (1: all, 0: none); what they cause follows them. */
  get sample(): number {
    return this.#sample;
  }

  /** Whether a new request should be traced (by the sample rate). */
  sampled(): boolean {
    if (this.#sample < 1 && (this.#sample <= 0 || Math.random() >= this.#sample)) return false;
    if (this.#perSecond === Infinity) return true;
    const second = Math.floor(this.#now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#inSecond = 0;
    }
    return ++this.#inSecond <= this.#perSecond;
  }

  /** New request traces per second at most (Infinity: every request). */
  get perSecond(): number {
    return this.#perSecond;
  }

  /** Opens a span under `parent` (null: a new trace, of which it is the root). */
  begin(parent: TraceContext | null, kind: SpanKind, info: SpanInfo): OpenSpan {
    const ctx = { t: parent?.t ?? newTraceId(), s: newSpanId() };
    if (!parent) {
      if (this.#open.size >= MAX_OPEN) {
        // Roots that never end (none should) must not hold memory forever: their spans go as late ones.
        const [oldest, spans] = this.#open.entries().next().value!;
        this.#open.delete(oldest);
        this.#pending.late.push(...spans);
      }
      this.#open.set(ctx.t, []);
    }
    return {
      ctx,
      parentId: parent?.s ?? null,
      kind,
      name: info.name,
      start: wallNow(),
      t0: performance.now(),
      className: info.className ?? null,
      objectId: info.objectId ?? null,
      objectName: info.objectName ?? null,
      state: info.state ?? null,
      status: null,
      method: info.method,
      path: info.path,
    };
  }

  /** Ends a span: it is written with its trace (a root, with every span of the trace so far). */
  end(span: OpenSpan, error?: string | null): void {
    if (this.#closed) return;
    const rec: SpanRecord = {
      traceId: span.ctx.t,
      spanId: span.ctx.s,
      parentId: span.parentId,
      kind: span.kind,
      name: span.name,
      start: span.start,
      durationMs: performance.now() - span.t0,
      className: span.className,
      objectId: span.objectId,
      objectName: span.objectName,
      state: span.state,
      status: span.status,
      error: error ?? null,
    };
    if (span.parentId === null) {
      const spans = this.#open.get(rec.traceId) ?? [];
      this.#open.delete(rec.traceId);
      spans.unshift(rec);
      this.#pending.done.push({ root: rec, method: span.method ?? null, path: span.path ?? null, spans });
      this.#arm();
    } else this.record(rec);
  }

  /** A span that ran elsewhere (a direct line, a mock endpoint), reported when it was done. */
  record(span: SpanRecord): void {
    if (this.#closed) return;
    const open = this.#open.get(span.traceId);
    if (open) open.push(span);
    else {
      this.#pending.late.push(span);
      this.#arm();
    }
  }

  /** A log line written under a traced span. */
  log(ctx: TraceContext, line: TraceLog): void {
    if (this.#closed) return;
    this.#pending.logs.push({ ...line, traceId: ctx.t, spanId: ctx.s });
    this.#arm();
  }

  #arm(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  /** Writes what is pending in one transaction and drops the oldest traces past the cap. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#closed) return;
    const batch = this.#pending;
    if (batch.done.length === 0 && batch.late.length === 0 && batch.logs.length === 0) return;
    this.#pending = { done: [], late: [], logs: [] };
    this.#db.write(batch);
  }

  /** Traces, newest first, matching every filter given. */
  list(q: TraceQuery = {}): TraceSummary[] {
    this.flush();
    return this.#db.list(q);
  }

  /** One trace with its spans and logs; null when it is not kept (or its root has not ended yet). */
  get(traceId: string): TraceDetail | null {
    this.flush();
    return this.#db.get(traceId);
  }

  /** How many traces are kept. */
  count(): number {
    this.flush();
    return this.#db.count;
  }

  /** Forgets every trace. */
  clear(): void {
    this.flush();
    this.#db.clear();
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#db.close();
  }
}

/** Reads a project's traces without running it (the CLI's `terrarium traces`). */
export function openTraceStore(dataDir: string): TraceStore {
  return new TraceStore(dataDir);
}

/**
 * Which span caused something that runs later (an event's deliveries, a
 * queued message's batch), by its key: in memory, the last `max` kept.
 * After a restart, or past that many, what runs later is a trace of its own.
 */
export class TraceLinks<K> {
  readonly #map = new Map<K, TraceContext>();
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  set(key: K, ctx: TraceContext): void {
    this.#map.set(key, ctx);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as K);
  }

  get(key: K): TraceContext | undefined {
    return this.#map.get(key);
  }
}

/** Records a span that takes no time of its own (a publish, a queue send): its children are what it started. */
export function instantSpan(
  tracer: TraceStore,
  parent: TraceContext,
  kind: SpanKind,
  info: SpanInfo,
): TraceContext {
  const span = tracer.begin(parent, kind, info);
  tracer.end(span);
  return span.ctx;
}
