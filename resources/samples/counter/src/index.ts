import { DurableObject } from "cloudflare:workers";

interface Env {
  COUNTER: DurableObjectNamespace<Counter>;
  GREETING: string;
}

/** One counter per name, kept in the object's own SQLite database. */
export class Counter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS counts (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  }

  increment(by = 1): number {
    return this.ctx.storage.sql
      .exec<{ value: number }>(
        "INSERT INTO counts (name, value) VALUES ('n', ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value RETURNING value",
        by,
      )
      .one().value;
  }

  get(): number {
    return (
      this.ctx.storage.sql.exec<{ value: number }>("SELECT value FROM counts WHERE name = 'n'").toArray()[0]
        ?.value ?? 0
    );
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname.endsWith("/increment")) {
      return Response.json({ value: this.increment() });
    }
    return Response.json({ value: this.get() });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const [, first, name, action] = url.pathname.split("/");
    if (first === "counter" && name) {
      const stub = env.COUNTER.getByName(name);
      if (action === "increment" && request.method === "POST") {
        return Response.json({ name, value: await stub.increment() });
      }
      if (action === "fetch") return stub.fetch(request);
      return Response.json({ name, value: await stub.get() });
    }
    return new Response(`${env.GREETING}\nPOST /counter/<name>/increment\nGET  /counter/<name>\n`, {
      headers: { "content-type": "text/plain" },
    });
  },
};
