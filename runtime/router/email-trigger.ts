import { EMAIL_ANSWERS, type EmailOutcome } from "../bindings/incoming-email.ts";
import type { SerializedRequest, SerializedResponse } from "../host/protocol.ts";
import { triggerText } from "./trigger-answer.ts";

/**
 * `POST /cdn-cgi/handler/email?from=<MAIL FROM>&to=<RCPT TO>` with a raw
 * message as the body runs the entry Worker's `email()` handler, as under
 * wrangler dev (Miniflare's unsafeTriggerHandlers). The path is taken
 * before static assets and routes, as Miniflare takes it before the
 * Worker; every other path goes on as before.
 */
export const EMAIL_HANDLER_PATH = "/cdn-cgi/handler/email";

/** Answers the trigger request: 400 for a request without an envelope or a body, else what the handler run gave. */
export async function emailTrigger(
  req: SerializedRequest,
  url: URL,
  run: (from: string, to: string, raw: Uint8Array) => Promise<EmailOutcome>,
): Promise<SerializedResponse> {
  const from = url.searchParams.get("from");
  const to = url.searchParams.get("to");
  if (!req.body || req.body.byteLength === 0 || !from || !to) return triggerText(400, EMAIL_ANSWERS.invalid);
  const answer = await run(from, to, new Uint8Array(req.body));
  return triggerText(answer.status, answer.body);
}
