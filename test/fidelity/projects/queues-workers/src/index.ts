import { DurableObject } from "cloudflare:workers";

interface Env {
  TASKS: Queue;
  LOG: DurableObjectNamespace<ResultLog>;
}

type Result = { name: string; square: number; by: string; queue: string; attempts: number };
type Seen = Result & { delivered: string; attempt: number };

export class ResultLog extends DurableObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS seen (name TEXT, square INTEGER, by TEXT, queue TEXT, attempts INTEGER, delivered TEXT, attempt INTEGER)",
    );
  }

  record(list: Seen[]): void {
    for (const s of list)
      this.ctx.storage.sql.exec(
        "INSERT INTO seen VALUES (?, ?, ?, ?, ?, ?, ?)",
        s.name,
        s.square,
        s.by,
        s.queue,
        s.attempts,
        s.delivered,
        s.attempt,
      );
  }

  // Sorted: which messages share a batch is up to timing, what each delivery saw is not.
  list(): Seen[] {
    return this.ctx.storage.sql.exec<Seen>("SELECT * FROM seen ORDER BY name, attempt").toArray();
  }
}

const log = (env: Env) => env.LOG.get(env.LOG.idFromName("log"));

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/send": {
        await env.TASKS.send({ name: "one", n: 1 });
        await env.TASKS.sendBatch([{ body: { name: "two", n: 2 } }, { body: { name: "retry", n: 3 } }]);
        return Response.json({ sent: 3 });
      }
      case "/seen":
        return Response.json(await log(env).list());
      default:
        return new Response("not found", { status: 404 });
    }
  },

  // The results the back Worker sent; "retry" is retried once before it is acked.
  async queue(batch: MessageBatch<Result>, env: Env): Promise<void> {
    const seen: Seen[] = [];
    for (const m of batch.messages) {
      seen.push({ ...m.body, delivered: batch.queue, attempt: m.attempts });
      if (m.body.name === "retry" && m.attempts === 1) m.retry();
      else m.ack();
    }
    await log(env).record(seen);
  },
};
