// The bindings this Worker uses (the repository type-checks bench/ without @cloudflare/workers-types).
interface Queue {
  send(body: unknown): Promise<unknown>;
  sendBatch(messages: { body: unknown }[]): Promise<unknown>;
}
interface MessageBatch {
  readonly messages: readonly unknown[];
}
interface Env {
  Q: Queue;
}

// One isolate consumes (one entry worker in Terrarium, one isolate in workerd).
let delivered = 0;
let batches = 0;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/one") {
      await env.Q.send({ n: 1, at: Date.now() });
      return new Response("ok");
    }
    if (url.pathname === "/fill") {
      const n = Number(url.searchParams.get("n") ?? "100");
      await env.Q.sendBatch(Array.from({ length: n }, (_, i) => ({ body: { i, pad: "x".repeat(100) } })));
      return new Response("ok");
    }
    if (url.pathname === "/count") return Response.json({ delivered, batches });
    return new Response("not found", { status: 404 });
  },

  async queue(batch: MessageBatch): Promise<void> {
    batches++;
    delivered += batch.messages.length;
  },
};
