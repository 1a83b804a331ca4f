import type { DurableObjectStorage } from "./storage.ts";
import type { ObjectIdentity } from "./protocol.ts";

/** The class `Isolate.warm()` runs: the calls a typical object makes on its first request. */
export class WarmUpObject {
  readonly #ctx: { storage: DurableObjectStorage };
  constructor(ctx: { storage: DurableObjectStorage }) {
    this.#ctx = ctx;
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  }

  /** Reads only the request's url (a request looked inside would load undici, see fetch-classes.ts). */
  async fetch(request: Request): Promise<Response> {
    const input = Object.fromEntries(new URL(request.url).searchParams);
    const { sql } = this.#ctx.storage;
    const row = sql
      .exec<{ v: number }>(
        "INSERT INTO t (id, v) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET v = v + 1 RETURNING v",
      )
      .one();
    sql.exec("SELECT id, v FROM t WHERE id = ?", 1).toArray();
    for (const r of sql.exec("SELECT v FROM t").raw()) row.v += Number(r[0] ?? 0);
    const storage = this.#ctx.storage;
    await storage.put("k", { input, row });
    await storage.get("k");
    await storage.list({ prefix: "k" });
    await storage.delete("k");
    storage.kv.put("s", 1);
    storage.kv.get("s");
    return new Response(JSON.stringify(row), { headers: { "content-type": "application/json" } });
  }

  async ping(value: unknown): Promise<unknown> {
    await this.#ctx.storage.put("p", value);
    return this.#ctx.storage.get("p");
  }
}

/** Who the warm-up object is: a class of Terrarium's own on an in-memory database. */
export const WARM_UP_IDENTITY: ObjectIdentity = {
  className: WarmUpObject.name,
  id: "0".repeat(64),
  name: null,
  dbPath: ":memory:",
  alarm: null,
  sockets: [],
  blockConcurrencyTimeoutMs: 30_000,
};
