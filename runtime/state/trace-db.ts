import { join } from "node:path";
import type Database from "better-sqlite3";
import { openDatabase } from "../shared/sqlite.ts";
import {
  classesOf,
  objectsOf,
  spanOf,
  stored,
  type SpanKind,
  type SpanRecord,
  type StoredSpan,
  type TraceDetail,
  type TraceLog,
  type TraceQuery,
  type TraceSummary,
} from "./trace-records.ts";

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

/** What is written in one batch: traces whose root ended, spans of traces already written, log lines. */
export interface TraceBatch {
  done: { root: SpanRecord; method: string | null; path: string | null; spans: SpanRecord[] }[];
  late: SpanRecord[];
  logs: (TraceLog & { traceId: string })[];
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

/**
 * `<data>/traces.sqlite` (or an in-memory database): a row per trace with
 * its summary, its spans in rows of a JSON array each (one per batch that
 * brought some), and the log lines under them. Holds at most `maxTraces`
 * traces: a write past the cap drops the oldest.
 */
export class TraceDb {
  readonly #db: Database.Database;
  readonly #maxTraces: number;
  #count: number;
  readonly #stmt;

  constructor(dataDir: string | null, maxTraces: number) {
    this.#db = openDatabase(dataDir === null ? ":memory:" : join(dataDir, "traces.sqlite"), MIGRATIONS);
    this.#maxTraces = maxTraces;
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

  /** How many traces are kept. */
  get count(): number {
    return this.#count;
  }

  /** Writes a batch in one transaction and drops the oldest traces past the cap. */
  write({ done, late, logs }: TraceBatch): void {
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
  list(q: TraceQuery): TraceSummary[] {
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

  /** One trace with its spans and logs; null when it is not kept. */
  get(traceId: string): TraceDetail | null {
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

  /** Forgets every trace. */
  clear(): void {
    this.#db.exec("DELETE FROM traces; DELETE FROM spans; DELETE FROM logs;");
    this.#count = 0;
  }

  close(): void {
    this.#db.close();
  }
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
