import { useEffect, useState, type KeyboardEvent } from "react";
import { useShallow } from "zustand/react/shallow";
import type { SavedRequest } from "../../../../runtime/api/contract.ts";
import { formatTime } from "../../components/format.ts";
import { ResponseView } from "../../components/response-view.tsx";
import { useConnectionStore } from "../../stores/connection.ts";
import { curlOf, METHODS, specOf, useConsoleStore } from "../../stores/console.ts";
import { useUiStore } from "../../stores/ui.ts";
import { WebSocketConsole } from "./websocket-console.tsx";
import "./saved-requests.css";
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
  const { draft, sending, response, error, history, saved, savedId } = useConsoleStore(
    useShallow((s) => ({
      draft: s.draft,
      sending: s.sending,
      response: s.response,
      error: s.error,
      history: s.history,
      saved: s.saved,
      savedId: s.savedId,
    })),
  );
  const s = useConsoleStore.getState();
  const routerUrl = useConnectionStore((c) => c.project?.url ?? null);
  // Shown once asked for, then kept in step with the draft (a copy of an old draft would mislead).
  const [showCurl, setShowCurl] = useState(false);
  const curl = showCurl ? curlOf(specOf(draft), routerUrl ?? "http://127.0.0.1:8787") : null;
  // The name being typed to save the draft under, while the save row is open.
  const [saveName, setSaveName] = useState<string | null>(null);

  useEffect(() => {
    void useConsoleStore.getState().loadHistory();
    void useConsoleStore.getState().loadSaved();
    void useConsoleStore.getState().suggestDefault();
  }, []);

  const openSave = () => {
    const current = saved.find((r) => r.id === savedId);
    setSaveName(current?.name ?? `${draft.method} ${draft.path}`);
  };
  const commitSave = async () => {
    if (saveName === null || !saveName.trim()) return;
    if (await s.saveDraft(saveName.trim())) setSaveName(null);
  };

  const onEnter = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") void s.send();
  };

  const copyCurl = () => {
    const text = curlOf(specOf(draft), routerUrl ?? "http://127.0.0.1:8787");
    setShowCurl(true);
    void navigator.clipboard?.writeText(text).catch(() => undefined);
  };

  return (
    <div className="http-console">
      <aside className="history" aria-label="History">
        <SavedList saved={saved} current={savedId} />
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
          <button type="button" onClick={openSave} aria-expanded={saveName !== null}>
            Save…
          </button>
          <button type="button" onClick={copyCurl}>
            Copy as curl
          </button>
        </div>
        {saveName !== null ? (
          <div className="save-row">
            <input
              aria-label="Save as"
              className="grow"
              autoFocus
              value={saveName}
              maxLength={200}
              onChange={(e) => setSaveName(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") void commitSave();
                if (e.key === "Escape") setSaveName(null);
              }}
            />
            <button
              type="button"
              className="primary"
              disabled={!saveName.trim()}
              onClick={() => void commitSave()}
            >
              Save request
            </button>
            <button type="button" className="link" onClick={() => setSaveName(null)}>
              Cancel
            </button>
            <span className="muted small">A request saved under the same name is replaced.</span>
          </div>
        ) : null}
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
        {response ? <ResponseView response={response} /> : null}
      </section>
    </div>
  );
}

/** The requests saved in this project: click one to load it; rename or delete it in place. */
function SavedList({
  saved,
  current,
}: {
  readonly saved: readonly SavedRequest[];
  readonly current: string | null;
}) {
  const s = useConsoleStore.getState();
  const [editing, setEditing] = useState<{ id: string; name: string } | null>(null);
  const commit = async () => {
    if (!editing || !editing.name.trim()) return;
    if (await s.renameSaved(editing.id, editing.name.trim())) setEditing(null);
  };
  return (
    <section className="saved" aria-label="Saved requests">
      <h3>Saved</h3>
      {saved.length === 0 ? (
        <p className="muted small">Save the request in the composer to keep it here under a name.</p>
      ) : null}
      <ul className="plain" data-testid="saved-requests">
        {saved.map((r) =>
          editing?.id === r.id ? (
            <li key={r.id} className="saved-edit">
              <input
                aria-label="New name"
                autoFocus
                value={editing.name}
                maxLength={200}
                onChange={(e) => setEditing({ id: r.id, name: e.target.value })}
                onKeyDown={(e) => {
                  if (e.key === "Enter") void commit();
                  if (e.key === "Escape") setEditing(null);
                }}
              />
              <button type="button" className="link" onClick={() => void commit()}>
                Rename
              </button>
            </li>
          ) : (
            <li
              key={r.id}
              className={`saved-item${r.id === current ? " current" : ""}`}
              data-saved-name={r.name}
            >
              <button
                type="button"
                className="saved-open"
                onClick={() => s.openSaved(r)}
                title={r.request.path}
              >
                <span className={`method m-${r.request.method.toLowerCase()}`}>{r.request.method}</span>
                <span className="clip">{r.name}</span>
              </button>
              <button
                type="button"
                className="link"
                aria-label={`Rename ${r.name}`}
                title="Rename"
                onClick={() => setEditing({ id: r.id, name: r.name })}
              >
                ✎
              </button>
              <button
                type="button"
                className="link"
                aria-label={`Delete ${r.name}`}
                title="Delete"
                onClick={() => void s.deleteSaved(r.id)}
              >
                ×
              </button>
            </li>
          ),
        )}
      </ul>
    </section>
  );
}
