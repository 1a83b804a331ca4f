/**
 * The control API's traces across objects (docs/traces.md): every request
 * through the router, and every alarm and Event Bus delivery no request
 * caused, as a tree of spans with their log lines. Part of ControlApi
 * (../contract.ts); the schemas parse what crosses a bridge.
 */
import { z } from "zod";
import type { SpanKind, SpanRecord, TraceDetail, TraceLog, TraceSummary } from "../../state/traces.ts";

export type { SpanKind, SpanRecord, TraceDetail, TraceLog, TraceSummary };

const traceId = z.string().regex(/^[0-9a-f]{32}$/, "a trace id is 32 lower-case hex digits");

export const traceSchemas = {
  query: z
    .object({
      path: z.string().max(2048).optional(),
      status: z
        .string()
        .regex(/^(\d{3}|[1-5]xx|error|ok)$/i, 'a status (404), a class (4xx), "error" or "ok"')
        .optional(),
      object: z.string().max(200).optional(),
      before: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    })
    .strict(),
  traceId,
} as const;

export type TraceQuerySpec = z.infer<typeof traceSchemas.query>;

export interface TracesInfo {
  traces: TraceSummary[];
  /** How many traces are kept (at most `max`), and the share of requests traced (0: tracing is off). */
  kept: number;
  max: number;
  sample: number;
  /** New request traces a second at most (null: every request). */
  perSecond: number | null;
}

export interface TraceControlApi {
  /** Traces, newest first, filtered by path (a part of it), status (404, 4xx, error, ok) and object. */
  traces(query?: TraceQuerySpec): Promise<TracesInfo>;
  /** One trace: its spans (the root first) and the log lines written under them; null when it is not kept. */
  trace(traceId: string): Promise<TraceDetail | null>;
  /** Forgets every trace; resolves with how many there were. */
  clearTraces(): Promise<number>;
}

export const traceCallSchemas = {
  traces: z.tuple([traceSchemas.query.optional()]),
  trace: z.tuple([traceId]),
  clearTraces: z.tuple([]),
} as const;
