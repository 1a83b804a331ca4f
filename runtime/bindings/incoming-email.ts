import type { CapturedEmail } from "./send-email.ts";

/**
 * Incoming email: a Worker's `email(message, env, ctx)` handler, run by a
 * POST to `/cdn-cgi/handler/email?from=..&to=..` with a raw message as its
 * body, as wrangler dev runs it (Miniflare's `handleEmail`). The message is
 * checked as Miniflare checks it (size, a Message-ID; a MAIL FROM or RCPT TO
 * that the headers do not name is only warned about), the handler gets a
 * ForwardableEmailMessage (`from`, `to`, `headers`, `raw`, `rawSize`,
 * `setReject`, `forward`, `reply`), and what it forwards or replies is
 * captured in the outbox with the messages send_email bindings send: never
 * sent. A reply is checked with Miniflare's rules and messages (the
 * original must be replyable; the reply needs a matching From:, a
 * Message-ID, an In-Reply-To naming the original; References is added
 * when the reply has none).
 *
 * Header fields are read here (unfolded, names lower-cased), not by a full
 * MIME parser: a message Miniflare's parser (postal-mime) refuses for its
 * body may be taken here.
 */

/** The answers to the trigger request, in Miniflare's words. */
export const EMAIL_ANSWERS = {
  invalid:
    "Invalid email. Your request must include URL parameters specifying the `from` and `to` addresses, as well as an email in the body",
  tooBig:
    "Email message size is bigger than the production size limit of 25MiB. Local development has a lower limit of 1Mib.",
  tooBigLocally:
    "Email message size is within the production size limit of 25MiB, but exceeds the lower 1Mib limit for testing locally.",
  noMessageId: "Email could not be parsed: invalid or no message id provided",
  ok: "Worker successfully processed email",
  rejected: (reason: string) => `Worker rejected email with the following reason: ${reason}`,
} as const;

/** A raw message's header fields as read here. */
export interface ParsedEmail {
  /** Every header field, in order, names lower-cased, values unfolded and trimmed. */
  headers: [string, string][];
  messageId: string | undefined;
  inReplyTo: string | undefined;
  references: string | undefined;
  /** The address of From: (`Name <a@b>` gives `a@b`). */
  from: string | undefined;
  /** The addresses of To:. */
  to: string[];
  subject: string | null;
}

/** The header fields of a raw message: up to the first empty line, unfolded, names lower-cased. */
export function parseEmail(raw: string): ParsedEmail {
  const end = raw.search(/\r?\n\r?\n/);
  const head = (end === -1 ? raw : raw.slice(0, end)).replace(/\r?\n[ \t]+/g, " ");
  const headers = head.split(/\r?\n/).flatMap((line): [string, string][] => {
    const colon = line.indexOf(":");
    // A field name as RFC 5322 and Headers take it (a line that is not a field is skipped).
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(line.slice(0, colon))) return [];
    return [[line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]];
  });
  const field = (name: string): string | undefined => {
    const v = headers.find(([k]) => k === name)?.[1];
    return v === undefined || v === "" ? undefined : v;
  };
  const from = field("from");
  return {
    headers,
    messageId: field("message-id"),
    inReplyTo: field("in-reply-to"),
    references: field("references"),
    from: from === undefined ? undefined : addresses(from)[0],
    to: addresses(field("to") ?? ""),
    subject: field("subject") ?? null,
  };
}

/** The addresses in an address list (`Ann <a@b>, c@d`). */
function addresses(value: string): string[] {
  return value
    .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
    .map((part) => {
      const angled = /<([^>]*)>/.exec(part);
      return (angled ? angled[1]! : part).trim();
    })
    .filter((a) => a.length > 0);
}

/** What the trigger request answers before the handler runs, or the parsed message it runs with. */
export function checkIncoming(raw: Uint8Array): { error: string } | { email: ParsedEmail; text: string } {
  if (raw.byteLength > 25 * 1024 * 1024) return { error: EMAIL_ANSWERS.tooBig };
  if (raw.byteLength > 1024 * 1024) return { error: EMAIL_ANSWERS.tooBigLocally };
  const text = new TextDecoder().decode(raw);
  const email = parseEmail(text);
  if (email.messageId === undefined) return { error: EMAIL_ANSWERS.noMessageId };
  return { email, text };
}

/** Miniflare's warnings when the envelope does not match the headers (the message is still delivered). */
export function envelopeWarnings(from: string, to: string, email: ParsedEmail): string[] {
  const out: string[] = [];
  if (from !== email.from)
    out.push(
      `Provided MAIL FROM address doesn't match the email message's "From" header:\n  MAIL FROM: ${from}\n  "From" header: ${email.from ?? ""}`,
    );
  if (!email.to.includes(to))
    out.push(
      `Provided RCPT TO address doesn't match any "To" header in the email message:\n  RCPT TO: ${to}\n  "To" header: ${email.to.join(", ")}`,
    );
  return out;
}

/** Whether a reply may be sent to `email` (Miniflare's isEmailReplyable); `why` says why not, where it says. */
export function replyable(email: ParsedEmail): { ok: boolean; why?: string } {
  const field = (name: string) => email.headers.find(([k]) => k === name)?.[1]?.toLowerCase();
  const suppress = field("x-auto-response-suppress");
  if (suppress !== undefined && suppress !== "none") return { ok: false };
  const submitted = field("auto-submitted");
  if (submitted !== undefined && submitted !== "no") return { ok: false };
  if (email.inReplyTo === undefined && email.references === undefined) return { ok: true };
  if (email.inReplyTo !== undefined && email.references !== undefined) {
    if ((email.references.match(/@/g)?.length ?? 0) >= 100)
      return {
        ok: false,
        why: `The incoming email's "References" header has more than 100 entries. As such, your Worker cannot respond to this email. Refer to https://developers.cloudflare.com/email-routing/email-workers/reply-email-workers/.`,
      };
    return { ok: true };
  }
  return { ok: false };
}

/** Checks a reply to `original` as Miniflare does; answers the raw reply to keep (with References added). */
export function checkReply(original: ParsedEmail, from: string, raw: string): string {
  const reply = parseEmail(raw);
  if (reply.from !== from) throw new Error("From: header does not match mail from");
  if (reply.messageId === undefined) throw new Error("invalid message-id");
  if (reply.headers.some(([k]) => k === "received")) throw new Error("invalid headers set");
  if (reply.inReplyTo === undefined) throw new Error("no In-Reply-To header found in reply message");
  if (reply.inReplyTo !== original.messageId)
    throw new Error("In-Reply-To does not match original Message-ID");
  const references = original.references ?? "";
  if (reply.references !== undefined) {
    if (!(reply.references.includes(original.messageId!) && reply.references.includes(references)))
      throw new Error("provided References header is invalid");
    return raw;
  }
  return `References: ${original.messageId}${references.length > 0 ? " " : ""}${references}\r\n${raw}`;
}

/** Miniflare's message id for a forward or a reply: 32 hex digits at example.com. */
function sentId(): string {
  return `${crypto.randomUUID().replaceAll("-", "")}@example.com`;
}

/** The key workerd's EmailMessage keeps its raw contents under (`cloudflare:email`). */
const RAW_EMAIL = "EmailMessage::raw";

/** What a handler did with the message, for the trigger's answer. */
export interface EmailOutcome {
  status: number;
  body: string;
}

/**
 * Runs `handler` on the message as workerd delivers it. `capture` keeps a
 * forward or a reply (the outbox), `log` writes what Miniflare logs.
 */
export async function deliverEmail(
  envelope: { from: string; to: string; raw: Uint8Array },
  handler: ((message: unknown) => unknown) | null,
  capture: (email: CapturedEmail) => Promise<void>,
  log: (level: "info" | "warn" | "error", message: string) => void,
): Promise<EmailOutcome> {
  const checked = checkIncoming(envelope.raw);
  if ("error" in checked) return { status: 400, body: checked.error };
  const { email, text } = checked;
  for (const w of envelopeWarnings(envelope.from, envelope.to, email)) log("warn", w);
  let rejected: string | undefined;
  const message = {
    from: envelope.from,
    to: envelope.to,
    raw: new Response(envelope.raw.slice()).body,
    rawSize: envelope.raw.byteLength,
    headers: new Headers(email.headers),
    setReject: (reason: string): void => {
      log("error", `Email handler rejected message with the following reason: "${reason}"`);
      rejected = String(reason);
    },
    forward: async (rcptTo: string, headers?: Headers): Promise<{ messageId: string }> => {
      const extra = headers ? [...new Headers(headers).entries()] : [];
      log(
        "info",
        `Email handler forwarded message with\n  rcptTo: ${rcptTo}${
          extra.length ? `\n  headers:\n${extra.map(([k, v]) => `    ${k}: ${v}`).join("\n")}` : ""
        }`,
      );
      const messageId = sentId();
      await capture({
        binding: "email()",
        messageId,
        from: envelope.from,
        to: [String(rcptTo)],
        subject: email.subject,
        form: "forward",
        raw: `${extra.map(([k, v]) => `${k}: ${v}\r\n`).join("")}${text}`,
        text: null,
        html: null,
        attachments: [],
      });
      return { messageId };
    },
    reply: async (reply: unknown): Promise<{ messageId: string }> => {
      const can = replyable(email);
      if (!can.ok) {
        if (can.why) log("error", can.why);
        throw new Error("Original email is not replyable");
      }
      if (typeof reply !== "object" || reply === null || !(RAW_EMAIL in reply))
        throw new TypeError("reply() takes an EmailMessage (cloudflare:email)");
      const r = reply as { from: string; to: string; [RAW_EMAIL]: unknown };
      const raw = await new Response(r[RAW_EMAIL] as ConstructorParameters<typeof Response>[0]).text();
      const final = checkReply(email, r.from, raw);
      const messageId = sentId();
      log(
        "info",
        `Email handler replied to sender (message ${messageId}, kept in the Inspector's Email page)`,
      );
      const parsed = parseEmail(final);
      await capture({
        binding: "email()",
        messageId,
        from: r.from,
        to: [r.to],
        subject: parsed.subject,
        form: "reply",
        raw: final,
        text: null,
        html: null,
        attachments: [],
      });
      return { messageId };
    },
  };
  try {
    if (!handler) throw new TypeError('The RPC receiver does not implement the method "email".');
    await handler(message);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { status: 500, body: err.stack ?? `${err.name}: ${err.message}` };
  }
  if (rejected !== undefined) return { status: 400, body: EMAIL_ANSWERS.rejected(rejected) };
  return { status: 200, body: EMAIL_ANSWERS.ok };
}
