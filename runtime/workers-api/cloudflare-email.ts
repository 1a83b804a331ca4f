/**
 * Terrarium's `cloudflare:email`. An EmailMessage can be built (as code
 * that handles or forwards mail does) and sent through a send_email
 * binding (runtime/bindings/send-email.ts), which captures it.
 */
export class EmailMessage {
  readonly from: string;
  readonly to: string;
  /** Named as workerd names it. */
  readonly "EmailMessage::raw": ReadableStream | string;
  constructor(from: string, to: string, raw: ReadableStream | string) {
    if (arguments.length < 3) throw new TypeError("EmailMessage takes from, to and raw.");
    this.from = String(from);
    this.to = String(to);
    this["EmailMessage::raw"] = raw;
  }
}
