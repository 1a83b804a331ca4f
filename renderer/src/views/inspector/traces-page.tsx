import { useCallback } from "react";
import { useShallow } from "zustand/react/shallow";
import type { SpanRecord, TraceDetail, TraceLog } from "../../../../runtime/api/contract.ts";
import { formatDuration, formatTime, pluralize } from "../../components/format.ts";
import { usePoll } from "../../components/use-poll.ts";
import { useTracesStore } from "../../stores/traces.ts";
import { useUiStore } from "../../stores/ui.ts";
import "./traces.css";

/** A span's outcome as a word: its status, its error, or ok. */
function outcome(s: { status: number | null; error: string | null }): string {
  if (s.error && s.status === null) return "error";
  return s.status !== null ? String(s.status) : "ok";
}

function failed(s: { status: number | null; error: string | null }): boolean {
  return s.error !== null || (s.status !== null && s.status >= 500);
}

/** The spans in tree order (each parent before its children, siblings by start), with their depth. */
function treeOrder(spans: readonly SpanRecord[]): { span: SpanRecord; depth: number }[] {
  const children = new Map<string | null, SpanRecord[]>();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) {
    // A span whose parent is not kept hangs under the root.
    const parent =
      s.parentId !== null && ids.has(s.parentId) ? s.parentId : s.parentId === null ? null : "root";
    const list = children.get(parent) ?? [];
    list.push(s);
    children.set(parent, list);
  }
  const out: { span: SpanRecord; depth: number }[] = [];
  const walk = (parent: string | null, depth: number): void => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) => a.start - b.start);
    for (const s of list) {
      out.push({ span: s, depth });
      walk(s.spanId, depth + 1);
      if (depth === 0) walk("root", 1);
    }
  };
  walk(null, 0);
  return out;
}

function Waterfall({ trace }: { readonly trace: TraceDetail }) {
  const openObject = useUiStore((s) => s.openObject);
  const t0 = trace.start;
  const total = Math.max(trace.durationMs, 0.001);
  const logs = new Map<string, TraceLog[]>();
  for (const l of trace.logs) logs.set(l.spanId, [...(logs.get(l.spanId) ?? []), l]);
  return (
    <div className="waterfall" role="table" aria-label="Waterfall" data-testid="waterfall">
      <div className="wf-row wf-head" role="row">
        <span role="columnheader">Span</span>
        <span role="columnheader">Object</span>
        <span role="columnheader">
          0 ms <span className="muted">→</span> {formatDuration(total)}
        </span>
      </div>
      {treeOrder(trace.spans).map(({ span, depth }) => {
        const left = ((span.start - t0) / total) * 100;
        const width = Math.max((span.durationMs / total) * 100, 0.4);
        const lines = logs.get(span.spanId) ?? [];
        return (
          <div key={span.spanId} className="wf-span" data-testid="span" data-kind={span.kind}>
            <div className="wf-row" role="row">
              <span
                className="wf-name"
                style={{ paddingLeft: depth * 16 }}
                role="cell"
                title={span.error ?? span.name}
              >
                <span className={`kind kind-${span.kind}`}>{span.kind}</span> {span.name}
              </span>
              <span className="wf-object" role="cell">
                {span.objectId ? (
                  <button
                    type="button"
                    className="link"
                    title={`open ${span.className} ${span.objectName ?? span.objectId}`}
                    onClick={() => openObject(span.objectId)}
                  >
                    {span.className} {span.objectName ?? span.objectId.slice(0, 8)}
                  </button>
                ) : (
                  <span className="muted">{span.kind === "entry" ? "entry Worker" : ""}</span>
                )}
                {span.state ? <span className="muted wf-state"> · was {span.state}</span> : null}
              </span>
              <span className="wf-track" role="cell">
                <span
                  className={`wf-bar kind-${span.kind}${failed(span) ? " failed" : ""}`}
                  style={{
                    left: `${Math.min(left, 99.6)}%`,
                    width: `${Math.min(width, 100 - Math.min(left, 99.6))}%`,
                  }}
                />
                <span className="wf-label">
                  {formatDuration(span.durationMs)} · {outcome(span)}
                </span>
              </span>
            </div>
            {span.error ? (
              <div className="wf-error" style={{ paddingLeft: depth * 16 + 8 }}>
                {span.error}
              </div>
            ) : null}
            {lines.map((l, i) => (
              <div
                key={i}
                className={`wf-log level-${l.level}`}
                style={{ paddingLeft: depth * 16 + 8 }}
                data-testid="span-log"
              >
                <span className="muted">{formatTime(l.time)}</span> {l.message}
              </div>
            ))}
          </div>
        );
      })}
    </div>
  );
}

/**
 * The Inspector's Traces page: the latest traces, searchable by path,
 * status and object; one opens as a waterfall of its spans, each object
 * a link to its page, each log line under its span.
 */
export function TracesPage() {
  const { filters, traces, kept, max, sample, selected, detail, error } = useTracesStore(
    useShallow((s) => ({
      filters: s.filters,
      traces: s.traces,
      kept: s.kept,
      max: s.max,
      sample: s.sample,
      selected: s.selected,
      detail: s.detail,
      error: s.error,
    })),
  );
  const { setFilter, load, open } = useTracesStore(
    useShallow((s) => ({ setFilter: s.setFilter, load: s.load, open: s.open })),
  );
  const poll = useCallback(() => load(), [load]);
  usePoll(poll, 2000);

  return (
    <section className="traces-page" aria-label="Traces" data-testid="traces-page">
      {error ? <p className="error">{error}</p> : null}
      <div className="traces-filters">
        <label>
          Path{" "}
          <input
            value={filters.path}
            placeholder="/rooms"
            onChange={(e) => setFilter("path", e.target.value)}
          />
        </label>
        <label>
          Status{" "}
          <select value={filters.status} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="error">error</option>
            <option value="2xx">2xx</option>
            <option value="4xx">4xx</option>
            <option value="5xx">5xx</option>
          </select>
        </label>
        <label>
          Object{" "}
          <input
            value={filters.object}
            placeholder="class, name or id"
            onChange={(e) => setFilter("object", e.target.value)}
          />
        </label>
        <span className="muted">
          {sample === 0
            ? "tracing is off (--traces off)"
            : `${pluralize(kept, "trace")} kept (the last ${max.toLocaleString("en-US")})${sample < 1 ? `, ${Math.round(sample * 100)}% of requests traced` : ""}`}
        </span>
      </div>
      {selected ? (
        <div className="trace-detail">
          <div className="trace-title">
            <button type="button" onClick={() => void open(null)}>
              ← All traces
            </button>
            {detail ? (
              <h3>
                {detail.name}{" "}
                <span className={failed(detail) ? "danger" : "muted"}>
                  {outcome(detail)} · {formatDuration(detail.durationMs)} ·{" "}
                  {pluralize(detail.spanCount, "span")}
                </span>
              </h3>
            ) : (
              <span className="muted">loading…</span>
            )}
          </div>
          {detail ? <Waterfall trace={detail} /> : null}
        </div>
      ) : traces.length === 0 ? (
        <p className="muted">
          No traces{filters.path || filters.status || filters.object ? " match" : " yet"}. Every request
          through the router is one: send one from the Console.
        </p>
      ) : (
        <table className="result traces-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Trace</th>
              <th>Status</th>
              <th className="num">Duration</th>
              <th className="num">Spans</th>
              <th>Objects</th>
            </tr>
          </thead>
          <tbody>
            {traces.map((t) => (
              <tr
                key={t.traceId}
                data-testid="trace-row"
                onClick={() => void open(t.traceId)}
                className="clickable"
              >
                <td className="mono">{formatTime(t.start)}</td>
                <td>
                  <span className={`kind kind-${t.kind}`}>{t.kind}</span> {t.name}
                </td>
                <td className={failed(t) ? "danger" : ""}>{outcome(t)}</td>
                <td className="num">{formatDuration(t.durationMs)}</td>
                <td className="num">{t.spanCount}</td>
                <td>{t.classes.join(" → ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
