import { type KeyboardEvent } from "react";
import { useShallow } from "zustand/react/shallow";
import { formatTime } from "../../components/format.ts";
import { VirtualList } from "../../components/virtual-list.tsx";
import { useConnectionStore } from "../../stores/connection.ts";
import { useSocketConsoleStore, type SocketLogEntry } from "../../stores/socket-console.ts";

const ARROWS: Record<SocketLogEntry["kind"], string> = {
  sent: "↑",
  received: "↓",
  info: "·",
  error: "!",
};

/** A WebSocket client for the project's router: connect to a path, send text, read every message. */
export function WebSocketConsole() {
  const { path, draft, status, log } = useSocketConsoleStore(
    useShallow((s) => ({ path: s.path, draft: s.draft, status: s.status, log: s.log })),
  );
  const s = useSocketConsoleStore.getState();
  const routerUrl = useConnectionStore((c) => c.project?.url ?? null);

  const onPathKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter" && routerUrl && status === "closed") s.connect(routerUrl);
  };
  const onMessageKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") s.send();
  };

  return (
    <section className="ws-console" aria-label="WebSocket">
      <div className="request-line">
        <input
          aria-label="WebSocket path"
          className="mono grow"
          value={path}
          spellCheck={false}
          placeholder="/room/lobby"
          onChange={(e) => s.setPath(e.target.value)}
          onKeyDown={onPathKey}
        />
        {status === "closed" ? (
          <button
            type="button"
            className="primary"
            disabled={!routerUrl}
            onClick={() => routerUrl && s.connect(routerUrl)}
          >
            Connect
          </button>
        ) : (
          <button type="button" onClick={() => s.disconnect()}>
            Disconnect
          </button>
        )}
        <span className={`ws-status ws-${status}`} data-testid="ws-status">
          {status}
        </span>
      </div>
      <p className="muted small">
        Opens a WebSocket to the project&apos;s router
        {routerUrl ? ` at ${routerUrl.replace(/^http/, "ws")}` : ""}, as a browser client of the project
        would.
      </p>
      <div className="request-line">
        <input
          aria-label="Message"
          className="mono grow"
          value={draft}
          placeholder={status === "open" ? "a text message; Enter sends" : "connect first"}
          disabled={status !== "open"}
          onChange={(e) => s.setDraft(e.target.value)}
          onKeyDown={onMessageKey}
        />
        <button type="button" disabled={status !== "open" || draft === ""} onClick={() => s.send()}>
          Send
        </button>
        <button type="button" className="link" disabled={!log.length} onClick={() => s.clear()}>
          Clear
        </button>
      </div>
      <div className="table ws-log" role="table" aria-label="Messages">
        <VirtualList
          items={log}
          rowHeight={26}
          rowKey={(e) => e.seq}
          label="Message rows"
          className="ws-log-body"
          empty={<p className="muted">No messages yet.</p>}
          renderRow={(e) => (
            <div className={`ws-grid ws-${e.kind}`} data-testid="ws-message" data-kind={e.kind}>
              <span role="cell" className="mono">
                {formatTime(e.time)}
              </span>
              <span role="cell" className="ws-arrow" aria-label={e.kind}>
                {ARROWS[e.kind]}
              </span>
              <span role="cell" className="mono message" title={e.text}>
                {e.text}
              </span>
            </div>
          )}
        />
      </div>
    </section>
  );
}
