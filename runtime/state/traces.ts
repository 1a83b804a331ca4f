import { join } from "node:path";
import type Database from "better-sqlite3";
import { openDatabase } from "../shared/sqlite.ts";
import { newSpanId, newTraceId, type TraceContext } from "../shared/trace-context.ts";

/**
 * Traces across objects (docs/traces.md): every request through the router,
 * and every alarm and Event Bus delivery no request caused, as a tree of
 * spans, kept in `<data>/traces.sqlite` up to a cap (the oldest traces are
 * dropped). Spans are recorded on the main thread: the orchestrator opens
 * one around each event it hands a worker, and records the ones that ran
 * elsewhere (direct lines between workers, outbound fetches to mock
 * endpoints) from the reports the workers send anyway. Writes are batched.
 */

/** What a span stands for. */
export type SpanKind =
  /** The router's answer to one HTTP request (a trace's root). */
  | "request"
  /** The entry Worker's fetch. */
  | "entry"
  /** A Durable Object's fetch, RPC call, alarm or Event Bus delivery. */
  | "fetch"
  | "rpc"
  | "alarm"
  | "event"
  /** `env.BUS.publish(topic)`: its deliveries are its children. */
  | "publish"
  /** A message sent to a queue, and the batch that delivered it. */
  | "queue-send"
  | "queue"
  /** An outbound fetch a mock endpoint answered. */
  | "outbound";

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentId: string | null;
  kind: SpanKind;
  /** What ran: `GET /path`, `rpc add()`, `event orders.created`, ... */
  name: string;
  /** Wall-clock ms since the epoch (fractional). */
  start: number;
  durationMs: number;
  className: string | null;
  objectId: string | null;
  objectName: string | null;
  /** The object's lifecycle state when the event reached it (Hibernating: the event woke it). */
  state: string | null;
  /** The HTTP status of a fetch span (null for other kinds, or when it threw). */
  status: number | null;
  error: string | null;
}

/** A log line written during a traced event, under its span. */
export interface TraceLog {
  spanId: string;
  time: number;
  level: string;
  message: string;
  objectId: string | null;
}

export interface TraceSummary {
  traceId: string;
  /** Increasing with each trace written; `before` pages with it. */
  seq: number;
  start: number;
  durationMs: number;
  kind: SpanKind;
  name: string;
  method: string | null;
  path: string | null;
  status: number | null;
  error: string | null;
  spanCount: number;
  /** The classes of the objects the trace reached, in the order first reached. */
  classes: string[];
}

export interface TraceDetail extends TraceSummary {
  /** Every span, by start time (the root first). */
  spans: SpanRecord[];
  logs: TraceLog[];
}

export interface TraceQuery {
  /** A part of the request's path (case-sensitive). */
  path?: string | undefined;
  /** An exact status (`404`), a class (`4xx`, `5xx`), `error` (5xx or a throw) or `ok`. */
  status?: string | undefined;
  /** A part of the class name, name or id of an object the trace reached. */
  object?: string | undefined;
  /** Traces older than this seq (paging). */
  before?: number | undefined;
  limit?: number | undefined;
}

/** A span still running: what the orchestrator holds until it ends. */
export interface OpenSpan {
  readonly ctx: TraceContext;
  readonly parentId: string | null;
  readonly kind: SpanKind;
  name: string;
  readonly start: number;
  readonly t0: number;
  className: string | null;
  objectId: string | null;
  objectName: string | null;
  state: string | null;
  status: number | null;
  /** For a root request span: the method and path searched by. */
  method?: string | undefined;
  path?: string | undefined;
}

export interface SpanInfo {
  name: string;
  className?: string | null | undefined;
  objectId?: string | null | undefined;
  objectName?: string | null | undefined;
  state?: string | null | undefined;
  method?: string | undefined;
  path?: string | undefined;
}

export const DEFAULT_MAX_TRACES = 10_000;
/**
 * New request traces per second at most, by default: past it (a load run on
 * a hot object) requests go untraced, so tracing's cost stays bounded.
 */
export const DEFAULT_TRACES_PER_SECOND = 200;
const FLUSH_MS = 200;

const MIGRATIONS = [
  `CREATE TABLE traces (
     seq INTEGER PRIMARY KEY,
     trace_id TEXT NOT NULL UNIQUE,
     start REAL NOT NULL,
     duration REAL NOT NULL,
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     method TEXT,
     path TEXT,
     status INTEGER,
     error TEXT,
     span_count INTEGER NOT NULL,
     classes TEXT NOT NULL,
     objects TEXT NOT NULL
   );
   CREATE TABLE spans (trace_id TEXT NOT NULL, spans TEXT NOT NULL);
   CREATE INDEX spans_trace ON spans(trace_id);
   CREATE TABLE logs (
     trace_id TEXT NOT NULL,
     span_id TEXT NOT NULL,
     time REAL NOT NULL,
     level TEXT NOT NULL,
     message TEXT NOT NULL,
     object_id TEXT
   );
   CREATE INDEX logs_trace ON logs(trace_id);`,
];

/** Wall-clock time with sub-millisecond precision (a trace's spans are often shorter than 1 ms). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A span as stored: an array, in a JSON array of the spans written together for one trace. */
type StoredSpan = [
  spanId: string,
  parentId: string | null,
  kind: SpanKind,
  name: string,
  start: number,
  durationMs: number,
  className: string | null,
  objectId: string | null,
  objectName: string | null,
  state: string | null,
  status: number | null,
  error: string | null,
];

function stored(s: SpanRecord): StoredSpan {
  return [
    s.spanId,
    s.parentId,
    s.kind,
    s.name,
    s.start,
    s.durationMs,
    s.className,
    s.objectId,
    s.objectName,
    s.state,
    s.status,
    s.error,
  ];
}

function spanOf(traceId: string, s: StoredSpan): SpanRecord {
  const [
    spanId,
    parentId,
    kind,
    name,
    start,
    durationMs,
    className,
    objectId,
    objectName,
    state,
    status,
    error,
  ] = s;
  return {
    traceId,
    spanId,
    parentId,
    kind,
    name,
    start,
    durationMs,
    className,
    objectId,
    objectName,
    state,
    status,
    error,
  };
}

type TraceRow = {
  seq: number;
  trace_id: string;
  start: number;
  duration: number;
  kind: string;
  name: string;
  method: string | null;
  path: string | null;
  status: number | null;
  error: string | null;
  span_count: number;
  classes: string;
  objects: string;
};

/** The classes spans reached, in order, added to `known` (a comma list). */
function classesOf(spans: readonly SpanRecord[], known = ""): string {
  const list = known ? known.split(",") : [];
  const byStart = [...spans].sort((a, b) => a.start - b.start);
  for (const s of byStart) if (s.className && !list.includes(s.className)) list.push(s.className);
  return list.join(",");
}

/** What the object filter searches: each object's class, name and id, between bars. */
function objectsOf(spans: readonly SpanRecord[]): string {
  let out = "";
  for (const s of spans) if (s.className) out += `|${s.className}|${s.objectName ?? ""}|${s.objectId ?? ""}|`;
  return out;
}

/** The SQL condition and parameters for a status filter (see TraceQuery.status). */
function statusFilter(s: string): { sql: string; params: unknown[] } {
  const v = s.trim().toLowerCase();
  if (/^[1-5]xx$/.test(v)) {
    const lo = Number(v[0]) * 100;
    return { sql: "status >= ? AND status < ?", params: [lo, lo + 100] };
  }
  if (/^\d{3}$/.test(v)) return { sql: "status = ?", params: [Number(v)] };
  if (v === "error") return { sql: "(status >= 500 OR error IS NOT NULL)", params: [] };
  if (v === "ok") return { sql: "(error IS NULL AND (status IS NULL OR status < 400))", params: [] };
  throw new Error(
    `a status filter is a status (404), a class (4xx), "error" or "ok", not ${JSON.stringify(s)}`,
  );
}

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
  readonly #db: Database.Database;
  readonly #maxTraces: number;
  #sample: number;
  readonly #perSecond: number;
  readonly #now: () => number;
  #second = 0;
  #inSecond = 0;
  /** Spans of traces whose root is still running. */
  readonly #open = new Map<string, SpanRecord[]>();
  /** Traces whose root ended, with their spans, to write. */
  #done: { root: SpanRecord; method: string | null; path: string | null; spans: SpanRecord[] }[] = [];
  /** Spans of traces already written (or whose root this store never saw). */
  #late: SpanRecord[] = [];
  #logs: (TraceLog & { traceId: string })[] = [];
  #timer: NodeJS.Timeout | null = null;
  #count: number;
  #closed = false;
  readonly #stmt;

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
    this.#db = openDatabase(dataDir === null ? ":memory:" : join(dataDir, "traces.sqlite"), MIGRATIONS);
    this.#maxTraces = Math.max(1, opts.maxTraces ?? DEFAULT_MAX_TRACES);
    this.#sample = Math.min(1, Math.max(0, opts.sample ?? 1));
    this.#perSecond = opts.perSecond ?? DEFAULT_TRACES_PER_SECOND;
    this.#now = opts.now ?? (() => performance.now());
    const db = this.#db;
    this.#stmt = {
      trace: db.prepare(
        "INSERT OR IGNORE INTO traces (trace_id, start, duration, kind, name, method, path, status, error, span_count, classes, objects) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      spans: db.prepare<[string, string]>("INSERT INTO spans (trace_id, spans) VALUES (?, ?)"),
      grown: db.prepare<[number, string, string, string]>(
        "UPDATE traces SET span_count = span_count + ?, classes = ?, objects = objects || ? WHERE trace_id = ?",
      ),
      classes: db.prepare<[string], { classes: string }>("SELECT classes FROM traces WHERE trace_id = ?"),
      log: db.prepare(
        "INSERT INTO logs (trace_id, span_id, time, level, message, object_id) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      count: db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM traces"),
      nth: db.prepare<[number], { seq: number }>("SELECT seq FROM traces ORDER BY seq DESC LIMIT 1 OFFSET ?"),
      dropSpans: db.prepare<[number]>(
        "DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM traces WHERE seq < ?)",
      ),
      dropLogs: db.prepare<[number]>(
        "DELETE FROM logs WHERE trace_id IN (SELECT trace_id FROM traces WHERE seq < ?)",
      ),
      dropTraces: db.prepare<[number]>("DELETE FROM traces WHERE seq < ?"),
      traceRow: db.prepare<[string], TraceRow>("SELECT * FROM traces WHERE trace_id = ?"),
      spansOf: db.prepare<[string], { spans: string }>(
        "SELECT spans FROM spans WHERE trace_id = ? ORDER BY rowid",
      ),
      logsOf: db.prepare<
        [string],
        { span_id: string; time: number; level: string; message: string; object_id: string | null }
      >("SELECT span_id, time, level, message, object_id FROM logs WHERE trace_id = ? ORDER BY time, rowid"),
    };
    this.#count = this.#stmt.count.get()!.n;
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
        this.#late.push(...spans);
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
      this.#done.push({ root: rec, method: span.method ?? null, path: span.path ?? null, spans });
      this.#arm();
    } else this.record(rec);
  }

  /** A span that ran elsewhere (a direct line, a mock endpoint), reported when it was done. */
  record(span: SpanRecord): void {
    if (this.#closed) return;
    const open = this.#open.get(span.traceId);
    if (open) open.push(span);
    else {
      this.#late.push(span);
      this.#arm();
    }
  }

  /** A log line written under a traced span. */
  log(ctx: TraceContext, line: TraceLog): void {
    if (this.#closed) return;
    this.#logs.push({ ...line, traceId: ctx.t, spanId: ctx.s });
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
    const done = this.#done;
    const late = this.#late;
    const logs = this.#logs;
    if (done.length === 0 && late.length === 0 && logs.length === 0) return;
    this.#done = [];
    this.#late = [];
    this.#logs = [];
    const s = this.#stmt;
    this.#db.transaction(() => {
      for (const { root: r, method, path, spans } of done) {
        const info = s.trace.run(
          r.traceId,
          r.start,
          r.durationMs,
          r.kind,
          r.name,
          method,
          path,
          r.status,
          r.error,
          spans.length,
          classesOf(spans),
          objectsOf(spans),
        );
        this.#count += info.changes;
        s.spans.run(r.traceId, JSON.stringify(spans.map(stored)));
      }
      if (late.length > 0) {
        const byTrace = new Map<string, SpanRecord[]>();
        for (const span of late) {
          const list = byTrace.get(span.traceId);
          if (list) list.push(span);
          else byTrace.set(span.traceId, [span]);
        }
        for (const [traceId, spans] of byTrace) {
          s.spans.run(traceId, JSON.stringify(spans.map(stored)));
          const known = s.classes.get(traceId);
          if (known) s.grown.run(spans.length, classesOf(spans, known.classes), objectsOf(spans), traceId);
        }
      }
      for (const l of logs) s.log.run(l.traceId, l.spanId, l.time, l.level, l.message, l.objectId);
      if (this.#count > this.#maxTraces) this.#trim();
    })();
  }

  /** Drops the oldest traces past the cap, with their spans and logs. */
  #trim(): void {
    const s = this.#stmt;
    const oldestKept = s.nth.get(this.#maxTraces - 1);
    if (!oldestKept) return;
    s.dropSpans.run(oldestKept.seq);
    s.dropLogs.run(oldestKept.seq);
    s.dropTraces.run(oldestKept.seq);
    this.#count = this.#maxTraces;
  }

  /** Traces, newest first, matching every filter given. */
  list(q: TraceQuery = {}): TraceSummary[] {
    this.flush();
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.before !== undefined) {
      where.push("seq < ?");
      params.push(q.before);
    }
    if (q.path) {
      where.push("instr(path, ?) > 0");
      params.push(q.path);
    }
    if (q.status) {
      const f = statusFilter(q.status);
      where.push(f.sql);
      params.push(...f.params);
    }
    if (q.object) {
      where.push("instr(objects, ?) > 0");
      params.push(q.object);
    }
    const limit = Math.max(1, Math.min(q.limit ?? 100, 1000));
    const sql = `SELECT * FROM traces${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT ${limit}`;
    return this.#db
      .prepare<unknown[], TraceRow>(sql)
      .all(...params)
      .map(summaryOf);
  }

  /** One trace with its spans and logs; null when it is not kept (or its root has not ended yet). */
  get(traceId: string): TraceDetail | null {
    this.flush();
    const row = this.#stmt.traceRow.get(traceId);
    if (!row) return null;
    const spans = this.#stmt.spansOf
      .all(traceId)
      .flatMap((r) => (JSON.parse(r.spans) as StoredSpan[]).map((s) => spanOf(traceId, s)));
    // The root first, then by start.
    spans.sort((a, b) => (a.parentId === null ? -1 : b.parentId === null ? 1 : a.start - b.start));
    const logs = this.#stmt.logsOf.all(traceId).map((l) => ({
      spanId: l.span_id,
      time: l.time,
      level: l.level,
      message: l.message,
      objectId: l.object_id,
    }));
    // A trace lasts until its last span ends (deliveries can outlast the request).
    const end = spans.reduce((m, s) => Math.max(m, s.start + s.durationMs), row.start + row.duration);
    return { ...summaryOf(row), durationMs: end - row.start, spanCount: spans.length, spans, logs };
  }

  /** How many traces are kept. */
  count(): number {
    this.flush();
    return this.#count;
  }

  /** Forgets every trace. */
  clear(): void {
    this.flush();
    this.#db.exec("DELETE FROM traces; DELETE FROM spans; DELETE FROM logs;");
    this.#count = 0;
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#db.close();
  }
}

function summaryOf(r: TraceRow): TraceSummary {
  return {
    traceId: r.trace_id,
    seq: r.seq,
    start: r.start,
    durationMs: r.duration,
    kind: r.kind as SpanKind,
    name: r.name,
    method: r.method,
    path: r.path,
    status: r.status,
    error: r.error,
    spanCount: r.span_count,
    classes: r.classes ? r.classes.split(",") : [],
  };
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
