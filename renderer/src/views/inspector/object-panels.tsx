import { type KeyboardEvent } from "react";
import { useShallow } from "zustand/react/shallow";
import type { BusEvent, ReceivedEvent } from "../../../../runtime/api/contract.ts";
import { formatAgo, formatBytes, formatTime, shortId } from "../../components/format.ts";
import { ResponseView } from "../../components/response-view.tsx";
import { usePoll } from "../../components/use-poll.ts";
import { METHODS } from "../../stores/console.ts";
import { useObjectDetailStore } from "../../stores/object-detail.ts";
import { useUiStore } from "../../stores/ui.ts";
import "./object-panels.css";

/** How often an open Sockets or Events panel asks again (both are cheap reads of the orchestrator). */
const POLL_MS = 2_000;

/** Event data is untrusted: shown as JSON text, cut short, never interpreted. */
function dataText(data: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(data) ?? String(data);
  } catch {
    text = String(data);
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** The object's WebSockets as the orchestrator holds them (they stay while it hibernates). */
export function SocketsPanel() {
  const sockets = useObjectDetailStore((s) => s.sockets);
  const load = useObjectDetailStore((s) => s.loadSockets);
  usePoll(load, POLL_MS);
  if (sockets === null) return <p className="muted">Loading…</p>;
  if (sockets.length === 0)
    return (
      <p className="muted">
        No WebSockets. An object takes one with ctx.acceptWebSocket() (hibernatable) or ws.accept().
      </p>
    );
  return (
    <table className="result sockets" data-testid="object-sockets">
      <thead>
        <tr>
          <th>Socket</th>
          <th>Tags</th>
          <th>API</th>
          <th>State</th>
          <th className="num">Attachment</th>
          <th className="num">In</th>
          <th className="num">Out</th>
          <th>Opened</th>
        </tr>
      </thead>
      <tbody>
        {sockets.map((w) => (
          <tr key={w.id} data-testid="object-socket">
            <td className="mono" title={w.id}>
              {w.id.length > 16 ? shortId(w.id) : w.id}
            </td>
            <td>
              {w.tags.length ? (
                w.tags.map((t) => (
                  <span key={t} className="tag">
                    {t}
                  </span>
                ))
              ) : (
                <span className="muted">—</span>
              )}
            </td>
            <td>{w.hibernatable ? "hibernatable" : "standard"}</td>
            <td>{w.open ? "open" : w.accepted ? "connecting" : "not accepted"}</td>
            <td className="num" title="serializeAttachment(); Cloudflare allows 2,048 bytes">
              {w.attachmentBytes ? formatBytes(w.attachmentBytes) : "—"}
            </td>
            <td className="num">{w.received.toLocaleString()}</td>
            <td className="num">{w.sent.toLocaleString()}</td>
            <td title={new Date(w.openedAt).toLocaleString()}>{formatAgo(w.openedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PublisherCell({ e }: { readonly e: BusEvent }) {
  const openObject = useUiStore((u) => u.openObject);
  if (!e.publisher) return <span className="muted">entry Worker</span>;
  const p = e.publisher;
  return (
    <button type="button" className="link" title={p.id} onClick={() => openObject(p.id)}>
      {p.className} · {p.name ?? shortId(p.id)}
    </button>
  );
}

/** The events the object published, and those the Event Bus delivered (or is delivering) to it. */
export function EventsPanel() {
  const events = useObjectDetailStore((s) => s.events);
  const load = useObjectDetailStore((s) => s.loadEvents);
  usePoll(load, POLL_MS);
  if (events === null) return <p className="muted">Loading…</p>;
  return (
    <div className="object-events">
      <h3>
        Published <span className="muted">({events.published.length})</span>
      </h3>
      {events.published.length === 0 ? (
        <p className="muted">
          Nothing published. An object publishes with env.&lt;bus&gt;.publish(topic, data).
        </p>
      ) : (
        <table className="result" data-testid="events-published">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>Time</th>
              <th>Topic</th>
              <th>Data</th>
            </tr>
          </thead>
          <tbody>
            {events.published.map((e) => (
              <tr key={e.id} data-testid="published-event">
                <td className="num">{e.id}</td>
                <td className="mono">{formatTime(e.publishedAt)}</td>
                <td className="mono">{e.topic}</td>
                <td className="mono clip">{dataText(e.data)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>
        Received <span className="muted">({events.received.length})</span>
      </h3>
      {events.received.length === 0 ? (
        <p className="muted">
          Nothing delivered. Subscriptions in terrarium.json name the objects that receive events.
        </p>
      ) : (
        <table className="result" data-testid="events-received">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>Time</th>
              <th>Topic</th>
              <th>Method</th>
              <th>Delivery</th>
              <th>From</th>
              <th>Data</th>
            </tr>
          </thead>
          <tbody>
            {events.received.map((e: ReceivedEvent) => (
              <tr
                key={`${e.id}-${e.binding}-${e.method}`}
                data-testid="received-event"
                data-status={e.status}
              >
                <td className="num">{e.id}</td>
                <td className="mono">{formatTime(e.publishedAt)}</td>
                <td className="mono">{e.topic}</td>
                <td className="mono">{e.method}()</td>
                <td
                  className={e.status === "dead" ? "error" : e.status === "pending" ? "warn" : ""}
                  title={e.lastError ?? ""}
                >
                  {e.status}
                  {e.attempts > 1 ? ` after ${e.attempts} attempts` : ""}
                </td>
                <td>
                  <PublisherCell e={e} />
                </td>
                <td className="mono clip">{dataText(e.data)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** A small composer that sends a request straight to this object's fetch handler. */
export function RequestPanel() {
  const { request, name, className } = useObjectDetailStore(
    useShallow((s) => ({
      request: s.request,
      name: s.summary?.name ?? null,
      className: s.summary?.className,
    })),
  );
  const edit = useObjectDetailStore((s) => s.editRequest);
  const send = useObjectDetailStore((s) => s.sendRequest);
  const onEnter = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") void send();
  };
  return (
    <div className="object-request">
      <p className="muted small">
        Sent straight to {className ?? "the object"}
        {name ? ` "${name}"` : ""}&apos;s fetch() by its id, waking it if it hibernates; the entry Worker and
        routes are skipped.
      </p>
      <div className="request-line">
        <select
          aria-label="Object request method"
          value={request.method}
          onChange={(e) => edit({ method: e.target.value })}
        >
          {METHODS.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
        <input
          aria-label="Object request path"
          className="mono grow"
          spellCheck={false}
          value={request.path}
          onChange={(e) => edit({ path: e.target.value })}
          onKeyDown={onEnter}
        />
        <button type="button" className="primary" disabled={request.sending} onClick={() => void send()}>
          {request.sending ? "Sending…" : "Send to object"}
        </button>
      </div>
      <div className="request-parts">
        <div>
          <h3>Headers</h3>
          <textarea
            aria-label="Object request headers"
            className="mono"
            rows={3}
            spellCheck={false}
            placeholder="content-type: application/json"
            value={request.headers}
            onChange={(e) => edit({ headers: e.target.value })}
          />
        </div>
        <div>
          <h3>Body</h3>
          <textarea
            aria-label="Object request body"
            className="mono"
            rows={3}
            spellCheck={false}
            placeholder={
              request.method === "GET" || request.method === "HEAD" ? "(not sent with GET or HEAD)" : ""
            }
            value={request.body}
            onChange={(e) => edit({ body: e.target.value })}
          />
        </div>
      </div>
      {request.error ? (
        <p className="error" data-testid="object-request-error">
          {request.error}
        </p>
      ) : null}
      {request.result ? <ResponseView response={request.result} label="Object response" /> : null}
    </div>
  );
}
