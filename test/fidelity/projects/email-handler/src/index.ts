import { EmailMessage } from "cloudflare:email";

interface Env {
  SEEN: KVNamespace;
}

const sentId = (r: { messageId?: unknown } | undefined) =>
  typeof r?.messageId === "string" && /^[0-9a-f]{32}@example\.com$/.test(r.messageId) ? "an id" : r;

const failure = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

function replyTo(message: ForwardableEmailMessage, extra: string): EmailMessage {
  const head = [
    "From: desk@example.com",
    `To: ${message.from}`,
    "Subject: Re: your order",
    "Message-ID: <reply-1@example.com>",
  ];
  if (extra) head.push(extra);
  return new EmailMessage(
    "desk@example.com",
    message.from,
    `${head.join("\r\n")}\r\n\r\nThanks, we are on it.`,
  );
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/seen") return new Response("not found", { status: 404 });
    const list = await env.SEEN.list();
    const out = [];
    for (const k of list.keys) out.push(await env.SEEN.get(k.name, "json"));
    return Response.json(out);
  },

  async email(message: ForwardableEmailMessage, env: Env): Promise<void> {
    const raw = await new Response(message.raw).text();
    const subject = message.headers.get("subject") ?? "";
    const seen: Record<string, unknown> = {
      from: message.from,
      to: message.to,
      rawSize: message.rawSize,
      rawLength: raw.length,
      subject,
      messageId: message.headers.get("message-id"),
      headerNames: [...message.headers.keys()],
      keys: Object.keys(message),
    };
    if (subject.includes("forward")) {
      try {
        seen.forward = sentId(
          await message.forward("ops@example.com", new Headers({ "X-Forwarded-By": "desk" })),
        );
      } catch (e) {
        seen.forward = failure(e);
      }
    }
    if (subject.includes("reply")) {
      const original = message.headers.get("message-id") ?? "";
      const cases: [string, string][] = [
        ["good", `In-Reply-To: ${original}`],
        ["no in-reply-to", ""],
        ["wrong in-reply-to", "In-Reply-To: <other@example.com>"],
        ["bad references", `In-Reply-To: ${original}\r\nReferences: <other@example.com>`],
      ];
      const replies: Record<string, unknown> = {};
      for (const [name, extra] of cases) {
        try {
          replies[name] = sentId(await message.reply(replyTo(message, extra)));
        } catch (e) {
          replies[name] = failure(e);
        }
      }
      try {
        await message.reply(new EmailMessage("someone@example.com", message.from, raw));
      } catch (e) {
        replies["other sender"] = failure(e);
      }
      seen.replies = replies;
    }
    await env.SEEN.put(subject || "(none)", JSON.stringify(seen));
  },
};
