import { useShallow } from "zustand/react/shallow";
import { formatTime } from "../../components/format.ts";
import { usePoll } from "../../components/use-poll.ts";
import type { EmailSummary } from "../../../../runtime/api/contract.ts";
import { useEmailStore } from "../../stores/email.ts";

/** What each form of captured message is called in the list. */
const FORMS: Record<EmailSummary["form"], string> = {
  raw: "EmailMessage",
  builder: "object",
  forward: "forwarded",
  reply: "reply",
};

/** The forms an email() handler produced (from an incoming message), not a send_email binding. */
const INCOMING = new Set<EmailSummary["form"]>(["forward", "reply"]);

/**
 * The Inspector's Email page: every message the project's send_email
 * bindings sent, and every message an email() handler forwarded or replied
 * (incoming email: POST /cdn-cgi/handler/email). Nothing was sent anywhere:
 * Terrarium keeps the messages in the data folder (email.sqlite), and this
 * page shows each one as it left the code (the raw MIME message, or the
 * object form's parts).
 */
export function EmailPage() {
  const { messages, open, error } = useEmailStore(
    useShallow((s) => ({ messages: s.messages, open: s.open, error: s.error })),
  );
  const load = useEmailStore((s) => s.load);
  const show = useEmailStore((s) => s.show);
  usePoll(load, 1_000);

  return (
    <section className="email" aria-label="Email" data-testid="email">
      {error ? <p className="error">{error}</p> : null}
      <h3>Email</h3>
      <p className="muted" data-testid="email-note">
        Captured, not sent: each message the code sent through a send_email binding, forwarded or replied to
        in its email() handler is kept in the data folder (email.sqlite) and shown here; nothing leaves this
        machine.
      </p>
      {messages.length === 0 ? (
        <p className="muted">
          No messages yet. A <code>send_email</code> binding in the wrangler config gives{" "}
          <code>env.EMAIL.send(new EmailMessage(from, to, raw))</code> (or{" "}
          <code>send({"{ from, to, subject, text }"})</code>); each message the code sends shows here.
        </p>
      ) : (
        <table className="result" data-testid="email-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Binding</th>
              <th>From</th>
              <th>To</th>
              <th>Subject</th>
              <th>Form</th>
              <th className="num">Attachments</th>
            </tr>
          </thead>
          <tbody>
            {messages.map((m) => (
              <tr
                key={m.seq}
                className={open?.seq === m.seq ? "selected" : ""}
                onClick={() => void show(m.seq)}
                data-email={m.seq}
              >
                <td>{formatTime(m.time)}</td>
                <td className="mono">
                  {INCOMING.has(m.form) ? "email() handler" : `env.${m.binding}`}
                  {m.worker ? <span className="muted"> · {m.worker}</span> : null}
                </td>
                <td className="mono">{m.from}</td>
                <td className="mono">{m.to.join(", ")}</td>
                <td>{m.subject ?? <span className="muted">(no subject)</span>}</td>
                <td>{FORMS[m.form]}</td>
                <td className="num">{m.attachments}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open ? (
        <div className="email-message" data-testid="email-message">
          <h3>
            {open.subject ?? "(no subject)"} <span className="muted mono">{open.messageId}</span>
          </h3>
          <h4>{open.form === "builder" ? "Headers" : "Raw message"}</h4>
          <pre className="body">{open.raw}</pre>
          {open.text !== null ? (
            <>
              <h4>Text</h4>
              <pre className="body">{open.text}</pre>
            </>
          ) : null}
          {open.html !== null ? (
            <>
              <h4>HTML (source)</h4>
              <pre className="body">{open.html}</pre>
            </>
          ) : null}
          {open.attachmentList.length > 0 ? (
            <>
              <h4>Attachments</h4>
              <ul>
                {open.attachmentList.map((a) => (
                  <li key={a.filename} className="mono">
                    {a.filename} · {a.type ?? "no type"} · {a.disposition} · {a.bytes} bytes
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
