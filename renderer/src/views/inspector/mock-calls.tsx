import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";
import type { MockCallRecord, MockEndpointInfo } from "../../../../runtime/api/contract.ts";
import { formatTime, shortId } from "../../components/format.ts";
import { VirtualList } from "../../components/virtual-list.tsx";
import { useMockCallsStore } from "../../stores/mock-calls.ts";
import { useUiStore } from "../../stores/ui.ts";

function latencyText(m: MockEndpointInfo): string {
  if (m.latencyMs === null) return "none";
  return Array.isArray(m.latencyMs) ? `${m.latencyMs[0]}–${m.latencyMs[1]} ms` : `${m.latencyMs} ms`;
}

/** The mock endpoints of terrarium.json and a live log of the calls they answered. */
export function MockCallsView() {
  const { endpoints, calls, error } = useMockCallsStore(
    useShallow((s) => ({ endpoints: s.endpoints, calls: s.calls, error: s.error })),
  );
  const load = useMockCallsStore((s) => s.load);
  const openObject = useUiStore((s) => s.openObject);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="mock-calls" aria-label="Mock calls" data-testid="mock-calls">
      {error ? <p className="error">{error}</p> : null}
      <h3>Mock endpoints</h3>
      {endpoints.length === 0 ? (
        <p className="muted">
          No mock endpoints. terrarium.json <code>mocks</code> answers outbound fetches to a URL prefix with a
          canned response, a latency and an error rate while Terrarium runs the project.
        </p>
      ) : (
        <table className="result">
          <thead>
            <tr>
              <th>URL prefix</th>
              <th>Method</th>
              <th>Status</th>
              <th>Latency</th>
              <th>Error rate</th>
              <th className="num">Calls</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((m) => (
              <tr key={m.url} data-testid="mock-endpoint">
                <td className="mono">{m.url}</td>
                <td>{m.method ?? "any"}</td>
                <td>{m.status}</td>
                <td>{latencyText(m)}</td>
                <td>
                  {(m.errorRate * 100).toFixed(0)}% <span className="muted">→ {m.errorStatus}</span>
                </td>
                <td className="num">{m.calls.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>
        Calls <span className="muted">({calls.length.toLocaleString()}, newest first, live)</span>
      </h3>
      <div className="table" role="table" aria-label="Mock calls">
        <div className="mock-grid table-head" role="row">
          <span role="columnheader">Time</span>
          <span role="columnheader">Method</span>
          <span role="columnheader">URL</span>
          <span role="columnheader">Status</span>
          <span role="columnheader">Latency</span>
          <span role="columnheader">Caller</span>
        </div>
        <VirtualList
          items={calls}
          rowHeight={28}
          rowKey={(c: MockCallRecord) => c.seq}
          label="Mock call rows"
          className="mock-body"
          empty={<p className="muted">No calls yet. Calls appear here as objects fetch a mocked URL.</p>}
          renderRow={(c) => (
            <div className={`mock-grid ${c.injectedError ? "mock-injected" : ""}`} data-testid="mock-call">
              <span role="cell" className="mono">
                {formatTime(c.time)}
              </span>
              <span role="cell">{c.method}</span>
              <span role="cell" className="mono" title={c.url}>
                {c.url}
              </span>
              <span role="cell">
                {c.status}
                {c.injectedError ? <span className="tag tag-error">injected error</span> : null}
              </span>
              <span role="cell" className="num">
                {Math.round(c.latencyMs)} ms
              </span>
              <span role="cell">
                {c.objectId ? (
                  <button
                    type="button"
                    className="link"
                    title={c.objectId}
                    onClick={() => openObject(c.objectId)}
                  >
                    {c.className} {shortId(c.objectId)}
                  </button>
                ) : (
                  <span className="muted">entry</span>
                )}
              </span>
            </div>
          )}
        />
      </div>
    </section>
  );
}
