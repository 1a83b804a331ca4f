import { DurableObject } from "cloudflare:workers";

interface Env {
  JOBS: Queue;
  LOG: DurableObjectNamespace<DeliveryLog>;
}

type Delivery = {
  queue: string;
  name: string;
  attempts: number;
  body: string;
};

export class DeliveryLog extends DurableObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS seen (queue TEXT, name TEXT, attempts INTEGER, body TEXT)",
    );
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS notes (note TEXT PRIMARY KEY)");
  }

  record(list: Delivery[]): void {
    for (const d of list)
      this.ctx.storage.sql.exec("INSERT INTO seen VALUES (?, ?, ?, ?)", d.queue, d.name, d.attempts, d.body);
  }

  note(note: string): void {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO notes VALUES (?)", note);
  }

  // Sorted: which messages share a batch is up to timing, what each delivery saw is not.
  list(): Delivery[] {
    return this.ctx.storage.sql
      .exec<Delivery>("SELECT queue, name, attempts, body FROM seen ORDER BY queue, name, attempts")
      .toArray();
  }

  notes(): string[] {
    return this.ctx.storage.sql
      .exec<{ note: string }>("SELECT note FROM notes ORDER BY note")
      .toArray()
      .map((r) => r.note);
  }
}

function errorInfo(error: unknown) {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "?", message: String(error) };
}

async function settle(call: () => Promise<unknown>) {
  try {
    const r = (await call()) as { metadata?: { metrics?: { backlogCount?: unknown } } } | undefined;
    return { ok: typeof r?.metadata?.metrics?.backlogCount };
  } catch (error) {
    return { error: errorInfo(error) };
  }
}

/** What a consumer sees of a body, in a form JSON keeps. */
function describe(body: unknown): string {
  if (body instanceof ArrayBuffer) return `ArrayBuffer ${[...new Uint8Array(body)].join(",")}`;
  if (body instanceof Map) return `Map ${JSON.stringify([...body])}`;
  if (body instanceof Date) return `Date ${body.getTime()}`;
  return `${typeof body} ${JSON.stringify(body)}`;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const q = env.JOBS;
    const url = new URL(request.url);
    const x = (n: number) => "x".repeat(n);
    switch (url.pathname) {
      case "/limits":
        // Each refused send keeps nothing: none of these reaches the consumer.
        return Response.json({
          noArgs: await settle(() => (q.send as () => Promise<unknown>)()),
          undefinedBody: await settle(() => q.send(undefined)),
          textNotString: await settle(() => q.send(123, { contentType: "text" })),
          bytesNotView: await settle(() => q.send("x", { contentType: "bytes" })),
          unknownType: await settle(() => q.send("x", { contentType: "xml" as "json" })),
          tooBigJson: await settle(() => q.send(x(128_000))),
          tooBigText: await settle(() => q.send(x(128_001), { contentType: "text" })),
        });
      case "/batch-limits":
        return Response.json({
          empty: await settle(() => q.sendBatch([])),
          notASequence: await settle(() => q.sendBatch(5 as unknown as [])),
          nullEntry: await settle(() => q.sendBatch([null as unknown as { body: unknown }])),
          noBody: await settle(() => q.sendBatch([{} as { body: unknown }])),
          unknownType: await settle(() => q.sendBatch([{ body: "t", contentType: "xml" as "json" }])),
          tooMany: await settle(() => q.sendBatch(Array.from({ length: 101 }, (_, i) => ({ body: i })))),
          bigMessage: await settle(() => q.sendBatch([{ body: x(130_000) }])),
          bigBatch: await settle(() => q.sendBatch(Array.from({ length: 3 }, () => ({ body: x(100_000) })))),
        });
      case "/send":
        return Response.json({
          json: await settle(() => q.send({ name: "ack", n: [1, 2] })),
          text: await settle(() => q.send("text:ack", { contentType: "text" })),
          bytes: await settle(() => q.send(new Uint8Array([1, 2, 255]), { contentType: "bytes" })),
          v8: await settle(() => q.send(new Map([["name", "v8:ack"]]), { contentType: "v8" })),
          delayed: await settle(() => q.send({ name: "delayed" }, { delaySeconds: 1 })),
          retry: await settle(() => q.send({ name: "retry" })),
          retryLater: await settle(() => q.send({ name: "retry-later" })),
          conflict: await settle(() => q.send({ name: "retry-then-ack" })),
          batch: await settle(() =>
            q.sendBatch(
              [
                { body: { name: "batch-ack" } },
                { body: "batch:text", contentType: "text" },
                { body: { name: "batch-delayed" }, delaySeconds: 1 },
              ],
              { delaySeconds: 0 },
            ),
          ),
          retryAll: await settle(() => q.sendBatch([{ body: { name: "retry-all" } }])),
          throws: await settle(() => q.send({ name: "throw" })),
        });
      case "/seen":
        return Response.json(await env.LOG.getByName("log").list());
      case "/warnings":
        return Response.json(await env.LOG.getByName("log").notes());
    }
    return new Response("not found", { status: 404 });
  },

  async queue(batch: MessageBatch, env: Env): Promise<void> {
    const log = env.LOG.getByName("log");
    const nameOf = (body: unknown): string =>
      body instanceof Map
        ? String(body.get("name"))
        : typeof body === "string"
          ? body
          : body instanceof ArrayBuffer
            ? "bytes"
            : String((body as { name?: unknown }).name);
    await log.record(
      batch.messages.map((m) => ({
        queue: batch.queue,
        name: nameOf(m.body),
        attempts: m.attempts,
        body: describe(m.body),
      })),
    );
    const shape = batch.messages[0];
    if (shape) {
      await log.note(
        `shape ${batch.queue}: batch ${Object.keys(batch).sort().join(",")}; message ${Object.keys(shape).sort().join(",")}; ` +
          `id ${/^[0-9a-f]{32}$/.test(shape.id)}; timestamp ${shape.timestamp instanceof Date}`,
      );
    }
    if (batch.queue !== "jobs") return;
    // Names: which batch a message shares is up to timing, so each decides alone.
    let fail = false;
    for (const m of batch.messages) {
      const name = nameOf(m.body);
      if (name === "retry") m.retry();
      else if (name === "retry-later") m.retry({ delaySeconds: 1 });
      else if (name === "retry-then-ack") {
        m.retry();
        m.ack();
      } else if (name === "retry-all") {
        if (batch.messages.length === 1) batch.retryAll();
        else m.retry();
      } else if (name === "throw") {
        if (batch.messages.length === 1) fail = true;
        else m.retry();
      } else m.ack();
    }
    if (fail) throw new Error("the consumer failed");
  },
};
