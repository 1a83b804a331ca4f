import { EmailMessage } from "cloudflare:email";

interface SendEmail {
  send(message: unknown): Promise<{ messageId: string }>;
}

interface Env {
  EMAIL: SendEmail;
  ONE: SendEmail;
  ANY: SendEmail;
}

function raw(from: string, to: string, extra: string[] = [], messageId = true): string {
  return [
    `From: Shop <${from}>`,
    `To: ${to}`,
    "Subject: Your order",
    ...(messageId ? [`Message-ID: <order-1@example.com>`] : []),
    ...extra,
    "Content-Type: text/plain; charset=utf-8",
    "",
    "It shipped.",
  ].join("\r\n");
}

/** What a send gave: the message id by its shape (it is random), or the error. */
async function attempt(send: () => Promise<{ messageId: string }>) {
  try {
    const { messageId } = await send();
    return {
      ok: /^<[A-Za-z0-9]{36}@[a-z.]+>$/.test(messageId) ? messageId.replace(/^<[^@]+/, "<…") : messageId,
    };
  } catch (e) {
    return { error: e instanceof Error ? { name: e.name, message: e.message } : String(e) };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const m = (from: string, to: string, text: string) => new EmailMessage(from, to, text);
    switch (url.pathname) {
      case "/raw":
        return Response.json({
          allowed: await attempt(() =>
            env.EMAIL.send(
              m("shop@example.com", "ann@example.com", raw("shop@example.com", "ann@example.com")),
            ),
          ),
          stream: await attempt(() =>
            env.EMAIL.send(
              m(
                "shop@example.com",
                "bob@example.com",
                new Response(raw("shop@example.com", "bob@example.com")).body as unknown as string,
              ),
            ),
          ),
          toNotAllowed: await attempt(() =>
            env.EMAIL.send(
              m("shop@example.com", "eve@example.com", raw("shop@example.com", "eve@example.com")),
            ),
          ),
          fromNotAllowed: await attempt(() =>
            env.EMAIL.send(
              m("eve@example.com", "ann@example.com", raw("eve@example.com", "ann@example.com")),
            ),
          ),
          noMessageId: await attempt(() =>
            env.EMAIL.send(
              m("shop@example.com", "ann@example.com", raw("shop@example.com", "ann@example.com", [], false)),
            ),
          ),
          fromMismatch: await attempt(() =>
            env.EMAIL.send(
              m("shop@example.com", "ann@example.com", raw("other@example.com", "ann@example.com")),
            ),
          ),
          received: await attempt(() =>
            env.EMAIL.send(
              m(
                "shop@example.com",
                "ann@example.com",
                raw("shop@example.com", "ann@example.com", ["Received: from mx.example.com"]),
              ),
            ),
          ),
          oneDestination: await attempt(() =>
            env.ONE.send(m("any@example.org", "ops@example.com", raw("any@example.org", "ops@example.com"))),
          ),
          oneElsewhere: await attempt(() =>
            env.ONE.send(m("any@example.org", "ann@example.com", raw("any@example.org", "ann@example.com"))),
          ),
        });
      case "/object":
        return Response.json({
          allowed: await attempt(() =>
            env.EMAIL.send({
              from: { name: "Shop", email: "shop@example.com" },
              to: ["ann@example.com", "bob@example.com"],
              subject: "Hello",
              text: "Hi there",
              html: "<p>Hi there</p>",
            }),
          ),
          toNotAllowed: await attempt(() =>
            env.EMAIL.send({
              from: "shop@example.com",
              to: ["ann@example.com", "eve@example.com"],
              subject: "x",
              text: "x",
            }),
          ),
          fromNotAllowed: await attempt(() =>
            env.EMAIL.send({
              from: { name: "Eve", email: "eve@example.com" },
              to: "ann@example.com",
              subject: "x",
              text: "x",
            }),
          ),
          any: await attempt(() =>
            env.ANY.send({
              from: "noreply@example.net",
              to: "someone@example.org",
              subject: "Attached",
              text: "see attached",
              attachments: [
                { filename: "a.txt", content: "hello", type: "text/plain", disposition: "attachment" },
              ],
            }),
          ),
        });
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
