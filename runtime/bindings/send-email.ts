/**
 * `send_email` bindings: `env.EMAIL.send(new EmailMessage(from, to, raw))`
 * (`cloudflare:email`) and the newer object form `env.EMAIL.send({ from,
 * to, subject, text, html, cc, bcc, attachments })`. As under wrangler dev
 * (Miniflare's send_email worker), nothing is sent: the binding checks the
 * message against its config and workerd's rules, with the same error
 * messages, and the message is captured: written to `<data>/email.sqlite`
 * by the orchestrator and listed in the Inspector. `send` resolves with `{
 * messageId }`, `<36 random letters and digits@sender's domain>`.
 */

export interface SendEmailSpec {
  binding: string;
  /** Every message must go to this address (`destination_address`). */
  destinationAddress: string | null;
  /** Messages may go only to these (`allowed_destination_addresses`). */
  allowedDestinationAddresses: string[] | null;
  /** Messages may come only from these (`allowed_sender_addresses`). */
  allowedSenderAddresses: string[] | null;
}

/** A message a worker sent, as the orchestrator keeps it. */
export interface CapturedEmail {
  binding: string;
  messageId: string;
  from: string;
  to: string[];
  subject: string | null;
  /**
   * `EmailMessage` (a raw MIME message) or `builder` (the object form) sent
   * by a binding; `forward` or `reply`: what an `email()` handler did with
   * an incoming message (incoming-email.ts).
   */
  form: "raw" | "builder" | "forward" | "reply";
  /** The raw message as sent (forms `raw`, `forward`, `reply`), or the headers the object form gives (form `builder`). */
  raw: string;
  text: string | null;
  html: string | null;
  attachments: { filename: string; type: string | null; disposition: string; bytes: number }[];
}

/** The wrangler config's `send_email` entries. */
export function sendEmailBindings(raw: Record<string, unknown>): SendEmailSpec[] {
  const list = raw["send_email"];
  if (!Array.isArray(list)) return [];
  const strings = (v: unknown): string[] | null =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : null;
  return list.flatMap((e: Record<string, unknown>) =>
    typeof e?.name === "string"
      ? [
          {
            binding: e.name,
            destinationAddress: typeof e.destination_address === "string" ? e.destination_address : null,
            allowedDestinationAddresses: strings(e.allowed_destination_addresses),
            allowedSenderAddresses: strings(e.allowed_sender_addresses),
          },
        ]
      : [],
  );
}

/** The key workerd's EmailMessage keeps its raw contents under. */
const RAW_EMAIL = "EmailMessage::raw";

type Address = string | { name?: string; email: string };

interface MessageBuilder {
  from: Address;
  to: Address | Address[];
  cc?: Address | Address[];
  bcc?: Address | Address[];
  replyTo?: Address;
  subject?: string;
  text?: string;
  html?: string;
  attachments?: {
    filename: string;
    content: string | ArrayBuffer | ArrayBufferView;
    type?: string;
    disposition?: string;
  }[];
}

const addressOf = (a: Address): string => (typeof a === "string" ? a : a.email);
const formatAddress = (a: Address): string => (typeof a === "string" ? a : `"${a.name ?? ""}" <${a.email}>`);
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Miniflare's message id: 36 random letters and digits at the sender's domain. */
function messageId(sender: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const id = Array.from(
    crypto.getRandomValues(new Uint8Array(36)),
    (b) => alphabet[b % alphabet.length],
  ).join("");
  return `<${id}@${sender.slice(sender.lastIndexOf("@") + 1)}>`;
}

/** A raw message's header fields (unfolded), names lower-cased, up to the first empty line. */
function headerFields(raw: string): [string, string][] {
  const end = raw.search(/\r?\n\r?\n/);
  const head = (end === -1 ? raw : raw.slice(0, end)).replace(/\r?\n[ \t]+/g, " ");
  return head.split(/\r?\n/).flatMap((line): [string, string][] => {
    const colon = line.indexOf(":");
    return colon > 0 ? [[line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]] : [];
  });
}

/** The address in a From: value (`Name <a@b>` or `a@b`). */
function fromAddress(value: string): string {
  const angled = /<([^>]*)>/.exec(value);
  return (angled ? angled[1]! : value).trim();
}

function bytesOf(content: string | ArrayBuffer | ArrayBufferView): number {
  if (typeof content === "string") return new TextEncoder().encode(content).byteLength;
  return content.byteLength;
}

/** `env.<binding>` in a worker: checks a message as workerd's local binding does, then hands it over. */
export class SendEmailBinding {
  readonly #spec: SendEmailSpec;
  readonly #capture: (email: CapturedEmail) => Promise<void>;

  constructor(spec: SendEmailSpec, capture: (email: CapturedEmail) => Promise<void>) {
    this.#spec = spec;
    this.#capture = capture;
  }

  #checkDestination(to: string): void {
    const s = this.#spec;
    if (s.destinationAddress !== null && to !== s.destinationAddress)
      throw new Error(`email to ${to} not allowed`);
    if (s.allowedDestinationAddresses !== null && !s.allowedDestinationAddresses.includes(to))
      throw new Error(`email to ${to} not allowed`);
  }

  #checkSender(from: string): void {
    const allowed = this.#spec.allowedSenderAddresses;
    if (allowed !== null && !allowed.includes(from)) throw new Error(`email from ${from} not allowed`);
  }

  async send(message: unknown): Promise<{ messageId: string }> {
    if (typeof message !== "object" || message === null)
      throw new TypeError("send() takes an EmailMessage or a message object");
    if (RAW_EMAIL in message)
      return this.#sendRaw(message as { from: string; to: string; [RAW_EMAIL]: unknown });
    return this.#sendBuilder(message as MessageBuilder);
  }

  async #sendRaw(m: { from: string; to: string; [RAW_EMAIL]: unknown }): Promise<{ messageId: string }> {
    this.#checkSender(m.from);
    for (const to of list(m.to)) this.#checkDestination(to);
    const raw = await new Response(m[RAW_EMAIL] as ConstructorParameters<typeof Response>[0]).text();
    const fields = headerFields(raw);
    const field = (name: string): string | null => fields.find(([k]) => k === name)?.[1] ?? null;
    if (field("message-id") === null) throw new Error("invalid message-id");
    const from = field("from");
    if (from === null || fromAddress(from) !== m.from)
      throw new Error("From: header does not match mail from");
    if (field("received") !== null) throw new Error("invalid headers set");
    const id = messageId(m.from);
    await this.#capture({
      binding: this.#spec.binding,
      messageId: id,
      from: m.from,
      to: list(m.to),
      subject: field("subject"),
      form: "raw",
      raw,
      text: null,
      html: null,
      attachments: [],
    });
    return { messageId: id };
  }

  async #sendBuilder(b: MessageBuilder): Promise<{ messageId: string }> {
    const from = addressOf(b.from);
    this.#checkSender(from);
    const to = list(b.to).map(addressOf);
    for (const t of to) this.#checkDestination(t);
    const lines = [`From: ${formatAddress(b.from)}`, `To: ${list(b.to).map(formatAddress).join(", ")}`];
    if (b.cc) lines.push(`Cc: ${list(b.cc).map(formatAddress).join(", ")}`);
    if (b.bcc) lines.push(`Bcc: ${list(b.bcc).map(formatAddress).join(", ")}`);
    lines.push(`Subject: ${b.subject ?? ""}`);
    const id = messageId(from);
    await this.#capture({
      binding: this.#spec.binding,
      messageId: id,
      from,
      to,
      subject: b.subject ?? null,
      form: "builder",
      raw: lines.join("\n"),
      text: typeof b.text === "string" ? b.text : null,
      html: typeof b.html === "string" ? b.html : null,
      attachments: (b.attachments ?? []).map((a) => ({
        filename: String(a.filename),
        type: a.type ?? null,
        disposition: a.disposition ?? "attachment",
        bytes: bytesOf(a.content),
      })),
    });
    return { messageId: id };
  }
}
