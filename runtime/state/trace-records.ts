import type { TraceContext } from "../shared/trace-context.ts";

// The records of traces (docs/traces.md): spans, log lines under them,
// summaries and queries, and the form a span is stored in.

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

/** Wall-clock time with sub-millisecond precision (a trace's spans are often shorter than 1 ms). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A span's fields as it is stored, in order (its trace id is the row's). */
const STORED_FIELDS = [
  "spanId",
  "parentId",
  "kind",
  "name",
  "start",
  "durationMs",
  "className",
  "objectId",
  "objectName",
  "state",
  "status",
  "error",
] as const satisfies readonly (keyof SpanRecord)[];

/** A span as stored: its STORED_FIELDS in order, in a JSON array of the spans written together for one trace. */
export type StoredSpan = Stored<typeof STORED_FIELDS>;
type Stored<F extends readonly (keyof SpanRecord)[]> = {
  -readonly [I in keyof F]: SpanRecord[F[I] & keyof SpanRecord];
};

export function stored(s: SpanRecord): StoredSpan {
  return STORED_FIELDS.map((f) => s[f]) as StoredSpan;
}

export function spanOf(traceId: string, s: StoredSpan): SpanRecord {
  const span: Record<string, unknown> = { traceId };
  STORED_FIELDS.forEach((f, i) => (span[f] = s[i]));
  return span as unknown as SpanRecord;
}

/** The classes spans reached, in order, added to `known` (a comma list). */
export function classesOf(spans: readonly SpanRecord[], known = ""): string {
  const list = known ? known.split(",") : [];
  const byStart = [...spans].sort((a, b) => a.start - b.start);
  for (const s of byStart) if (s.className && !list.includes(s.className)) list.push(s.className);
  return list.join(",");
}

/** What the object filter searches: each object's class, name and id, between bars. */
export function objectsOf(spans: readonly SpanRecord[]): string {
  let out = "";
  for (const s of spans) if (s.className) out += `|${s.className}|${s.objectName ?? ""}|${s.objectId ?? ""}|`;
  return out;
}
