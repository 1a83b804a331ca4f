import { useEffect, useMemo, useState, type KeyboardEvent } from "react";
import { useShallow } from "zustand/react/shallow";
import type { HttpResult } from "../../../../runtime/api/contract.ts";
import { formatBytes, formatDuration, formatTime } from "../../components/format.ts";
import { useConnectionStore } from "../../stores/connection.ts";
import { curlOf, METHODS, specOf, useConsoleStore } from "../../stores/console.ts";
import { useUiStore } from "../../stores/ui.ts";
import { WebSocketConsole } from "./websocket-console.tsx";
import { LoadView } from "./load-view.tsx";

export function ConsoleView() {
  // In the UI store, not local state: the open section survives a trip to another view.
  const tab = useUiStore((u) => u.consoleSection);
  const setTab = useUiStore((u) => u.showConsoleSection);
  return (
    <div className="console">
      <nav className="subtabs" aria-label="Console sections">
        <button type="button" aria-pressed={tab === "http"} onClick={() => setTab("http")}>
          HTTP
        </button>
        <button type="button" aria-pressed={tab === "websocket"} onClick={() => setTab("websocket")}>
          WebSocket
        </button>
        <button type="button" aria-pressed={tab === "load"} onClick={() => setTab("load")}>
          Load
        </button>
      </nav>
      {tab === "http" ? <HttpConsole /> : null}
      {tab === "websocket" ? <WebSocketConsole /> : null}
      {tab === "load" ? <LoadView /> : null}
    </div>
  );
}

function HttpConsole() {
  const { draft, sending, response, error, history } = useConsoleStore(
    useShallow((s) => ({
      draft: s.draft,
      sending: s.sending,
      response: s.response,
      error: s.error,
      history: s.history,
    })),
  );
  const s = useConsoleStore.getState();
  const routerUrl = useConnectionStore((c) => c.project?.url ?? null);
  const [curl, setCurl] = useState<string | null>(null);
  const [bodyTab, setBodyTab] = useState<"body" | "headers">("body");

  useEffect(() => {
    void useConsoleStore.getState().loadHistory();
  }, []);

  const onEnter = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") void s.send();
  };

  const copyCurl = () => {
    const text = curlOf(specOf(draft), routerUrl ?? "http://127.0.0.1:8787");
    setCurl(text);
    void navigator.clipboard?.writeText(text).catch(() => undefined);
  };

  return (
    <div className="http-console">
      <aside className="history" aria-label="History">
        <div className="history-head">
          <h3>History</h3>
          <button
            type="button"
            className="link"
            disabled={!history.length}
            onClick={() => void s.clearHistory()}
          >
            Clear
          </button>
        </div>
        {history.length === 0 ? <p className="muted">Requests you send are kept here, per project.</p> : null}
        <ul className="plain" data-testid="history">
          {history.map((h) => (
            <li key={h.id}>
              <button
                type="button"
                className="history-item"
                onClick={() => s.restore(h)}
                title={h.request.path}
              >
                <span className={`method m-${h.request.method.toLowerCase()}`}>{h.request.method}</span>
                <span className="mono clip">{h.request.path}</span>
                <span className={`status s${String(h.status)[0]}`}>{h.status}</span>
                <span className="muted small">{formatTime(h.time)}</span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <section className="composer" aria-label="Request">
        <div className="request-line">
          <select
            aria-label="Method"
            value={draft.method}
            onChange={(e) => s.edit({ method: e.target.value })}
          >
            {METHODS.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
          <input
            aria-label="Path"
            className="mono grow"
            value={draft.path}
            spellCheck={false}
            onChange={(e) => s.edit({ path: e.target.value })}
            onKeyDown={onEnter}
          />
          <button type="button" className="primary" disabled={sending} onClick={() => void s.send()}>
            {sending ? "Sending…" : "Send"}
          </button>
          <button type="button" onClick={copyCurl}>
            Copy as curl
          </button>
        </div>
        <p className="muted small">
          Sent to the project&apos;s router{routerUrl ? ` at ${routerUrl}` : ""}, as any client would reach
          it.
        </p>
        {curl ? (
          <input
            className="mono curl"
            readOnly
            aria-label="curl command"
            value={curl}
            onFocus={(e) => e.target.select()}
          />
        ) : null}
        <div className="request-parts">
          <div>
            <h3>Headers</h3>
            {draft.headers.map((h, i) => (
              <div key={i} className="header-row">
                <input
                  type="checkbox"
                  aria-label="Send this header"
                  checked={h.enabled}
                  onChange={(e) => s.setHeader(i, { enabled: e.target.checked })}
                />
                <input
                  aria-label="Header name"
                  className="mono"
                  placeholder="name"
                  value={h.key}
                  onChange={(e) => s.setHeader(i, { key: e.target.value })}
                />
                <input
                  aria-label="Header value"
                  className="mono grow"
                  placeholder="value"
                  value={h.value}
                  onChange={(e) => s.setHeader(i, { value: e.target.value })}
                />
                <button
                  type="button"
                  className="link"
                  aria-label="Remove header"
                  onClick={() => s.removeHeader(i)}
                >
                  ×
                </button>
              </div>
            ))}
            <button type="button" className="link" onClick={() => s.addHeader()}>
              + Header
            </button>
          </div>
          <div>
            <h3>Body</h3>
            <textarea
              aria-label="Body"
              className="mono"
              rows={5}
              spellCheck={false}
              placeholder={
                draft.method === "GET" || draft.method === "HEAD" ? "(not sent with GET or HEAD)" : ""
              }
              value={draft.body}
              onChange={(e) => s.edit({ body: e.target.value })}
            />
          </div>
        </div>
        {error ? <p className="error">{error}</p> : null}
        {response ? <ResponseView response={response} tab={bodyTab} setTab={setBodyTab} /> : null}
      </section>
    </div>
  );
}

function prettyBody(r: HttpResult): { text: string; note: string | null } {
  if (r.bodyBase64 !== null) {
    const bytes = Math.floor((r.bodyBase64.length * 3) / 4);
    return {
      text: r.bodyBase64.slice(0, 4096),
      note: `Binary body, ${formatBytes(bytes)}, shown as base64.`,
    };
  }
  const type = r.headers.find(([k]) => k.toLowerCase() === "content-type")?.[1] ?? "";
  if (/json/i.test(type) || /^\s*[[{]/.test(r.body)) {
    try {
      return { text: JSON.stringify(JSON.parse(r.body), null, 2), note: null };
    } catch {
      // not JSON after all: shown as it came
    }
  }
  if (/html/i.test(type)) return { text: r.body, note: "HTML, shown as source." };
  return { text: r.body, note: null };
}

function ResponseView(props: {
  readonly response: HttpResult;
  readonly tab: "body" | "headers";
  readonly setTab: (t: "body" | "headers") => void;
}) {
  const { response: r, tab, setTab } = props;
  const body = useMemo(() => prettyBody(r), [r]);
  return (
    <section className="response" aria-label="Response" data-testid="response">
      <div className="response-line">
        <span className={`status s${String(r.status)[0]}`} data-testid="response-status">
          {r.status} {r.statusText}
        </span>
        <span className="muted">{formatDuration(r.durationMs)}</span>
        <span className="muted">{formatBytes(r.body.length)}</span>
        <span className="grow" />
        <div className="subtabs small">
          <button type="button" aria-pressed={tab === "body"} onClick={() => setTab("body")}>
            Body
          </button>
          <button type="button" aria-pressed={tab === "headers"} onClick={() => setTab("headers")}>
            Headers ({r.headers.length})
          </button>
        </div>
      </div>
      {tab === "body" ? (
        <>
          {body.note ? <p className="muted small">{body.note}</p> : null}
          <pre className="body" data-testid="response-body">
            {body.text}
          </pre>
        </>
      ) : (
        <table className="result">
          <tbody>
            {r.headers.map(([k, v], i) => (
              <tr key={i}>
                <td className="mono">{k}</td>
                <td className="mono">{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
