import type { ObjectRecord } from "../registry/registry.ts";
import type { DirectReport, LogRecord } from "../host/protocol.ts";
import type { MockCall } from "../shared/events.ts";
import { newSpanId, type TraceContext } from "../shared/trace-context.ts";
import type { OpenSpan, TraceStore } from "../state/traces.ts";
import type { Dispatch } from "./live.ts";

/**
 * The Lifecycle Manager's part in traces (docs/traces.md): a span around
 * each event it runs on an object, and the spans and log lines the workers
 * report (calls on direct lines, outbound fetches to mock endpoints, log
 * lines under their span). Nothing here runs when tracing is off.
 */

/** Opens the span of an event on an object, or null when the event is not traced. */
export function beginObjectSpan(tracer: TraceStore | null, d: Dispatch, rec: ObjectRecord): OpenSpan | null {
  if (!tracer || d.trace === undefined) return null;
  return tracer.begin(d.trace, d.kind, {
    name: d.cause,
    className: d.className,
    objectId: d.id,
    objectName: d.name ?? rec.name,
    state: rec.state,
  });
}

/** Ends a span with its error, or with the status of the response it answered. */
export function endObjectSpan(
  tracer: TraceStore | null,
  span: OpenSpan,
  error: string | undefined,
  value?: unknown,
): void {
  if (
    error === undefined &&
    typeof value === "object" &&
    value !== null &&
    typeof (value as { status?: unknown }).status === "number"
  )
    span.status = (value as { status: number }).status;
  tracer?.end(span, error);
}

/** Ends a span with what a bounded call gave (see LifecycleManager.#bounded). */
export function endAnswered(
  tracer: TraceStore | null,
  span: OpenSpan,
  answered:
    { late: null; ok: true; value: unknown } | { late: null; ok: false; error: unknown } | { late: Error },
): void {
  if (answered.late) endObjectSpan(tracer, span, answered.late.message);
  else if (answered.ok) endObjectSpan(tracer, span, undefined, answered.value);
  else endObjectSpan(tracer, span, errorMessage(answered.error));
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Spans of traced calls that ran on direct lines between workers (their records say so). */
export function directSpans(
  tracer: TraceStore,
  live: ReadonlyMap<string, { record: ObjectRecord }>,
  registry: { get(id: string): ObjectRecord | undefined | null },
  reports: readonly DirectReport[],
): void {
  for (const { objectId, records } of reports) {
    let rec: ObjectRecord | null | undefined;
    for (const r of records) {
      if (!r.trace) continue;
      rec ??= live.get(objectId)?.record ?? registry.get(objectId);
      tracer.record({
        traceId: r.trace.t,
        spanId: r.trace.s,
        parentId: r.trace.p,
        kind: r.kind,
        name: r.cause,
        start: r.time - r.durationMs,
        durationMs: r.durationMs,
        className: rec?.className ?? null,
        objectId,
        objectName: rec?.name ?? null,
        // A direct line reaches only an object that is live.
        state: "Active",
        status: r.status ?? null,
        error: r.error ?? null,
      });
    }
  }
}

/** A log line written during a traced event, kept under its span. */
export function logToTrace(
  tracer: TraceStore | null,
  rec: ObjectRecord | null,
  r: LogRecord & { trace: TraceContext },
): void {
  tracer?.log(r.trace, {
    spanId: r.trace.s,
    time: r.time,
    level: r.level,
    message: r.message,
    objectId: rec?.id ?? null,
  });
}

/** An outbound fetch a mock endpoint answered, as a span under the event that made it. */
export function mockSpan(
  tracer: TraceStore | null,
  rec: ObjectRecord | null,
  call: MockCall,
  trace: TraceContext,
): void {
  tracer?.record({
    traceId: trace.t,
    spanId: newSpanId(),
    parentId: trace.s,
    kind: "outbound",
    name: `${call.method} ${call.url}`,
    start: call.time,
    durationMs: call.latencyMs,
    className: rec?.className ?? null,
    objectId: rec?.id ?? null,
    objectName: rec?.name ?? null,
    state: null,
    status: call.status,
    error: call.injectedError ? `error injected by the mock ${call.mock}` : null,
  });
}
