import { DurableObject } from "cloudflare:workers";

export interface Env {
  DOCS: DurableObjectNamespace<Document>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorInfo(error: unknown) {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "?", message: String(error) };
}

export class Document extends DurableObject<Env> {
  ready = false;
  constructed = 0;
  visits = 0;
  phase = "initial";
  peeked = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.constructed++;
    if (ctx.id.name === "broken") throw new Error("constructor refused this object");
    // No request is delivered until this finishes, however long it takes.
    void ctx.blockConcurrencyWhile(async () => {
      await sleep(100);
      this.visits = (await ctx.storage.get<number>("visits")) ?? 0;
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS lines (n INTEGER PRIMARY KEY, text TEXT)");
      this.ready = true;
    });
  }

  async visit() {
    const readyWhenHandled = this.ready;
    this.visits++;
    await this.ctx.storage.put("visits", this.visits);
    return { readyWhenHandled, constructed: this.constructed };
  }

  async stats() {
    return {
      visits: this.visits,
      stored: (await this.ctx.storage.get("visits")) ?? null,
      constructed: this.constructed,
    };
  }

  // Calls queued behind a blockConcurrencyWhile see only its final state.
  // Unblocked, the update waits (up to 2 s) for both peeks to land midway,
  // so the outcome does not depend on how fast calls are delivered.
  async slowUpdate(block: boolean) {
    this.peeked = 0;
    const work = async () => {
      this.phase = "midway";
      if (block) await sleep(150);
      else for (let i = 0; i < 400 && this.peeked < 2; i++) await sleep(5);
      this.phase = block ? "blocked-done" : "unblocked-done";
    };
    if (block) await this.ctx.blockConcurrencyWhile(work);
    else await work();
    return this.phase;
  }

  peek() {
    this.peeked++;
    return this.phase;
  }

  // A callback that throws resets the object: the call fails even though
  // it catches, and the next call meets a fresh instance.
  async failingBlock() {
    this.phase = "before failure";
    try {
      await this.ctx.blockConcurrencyWhile(async () => {
        await sleep(10);
        throw new RangeError("failed inside blockConcurrencyWhile");
      });
      return { ok: true };
    } catch (error) {
      return { ok: false, error: errorInfo(error) };
    }
  }

  async write(lines: string[]) {
    await this.ctx.storage.put({ title: "notes", "meta:owner": "ada", "meta:tags": ["a", "b"] });
    for (const text of lines) this.ctx.storage.sql.exec("INSERT INTO lines (text) VALUES (?)", text);
    return this.snapshot();
  }

  async snapshot() {
    const kv = [...(await this.ctx.storage.list())].map(([k, v]) => [k, v]);
    let lines: unknown;
    try {
      lines = this.ctx.storage.sql.exec("SELECT n, text FROM lines ORDER BY n").toArray();
    } catch (error) {
      lines = { error: errorInfo(error) };
    }
    const tables = this.ctx.storage.sql
      .exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .toArray()
      .map((r) => r.name);
    return { kv, lines, tables, visitsInMemory: this.visits };
  }

  async wipe() {
    const result = await this.ctx.storage.deleteAll();
    return { result: result === undefined ? "undefined" : result, after: await this.snapshot() };
  }

  async rebuild() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS lines (n INTEGER PRIMARY KEY, text TEXT)");
    return this.write(["after wipe"]);
  }
}

async function settle(call: () => Promise<unknown>) {
  try {
    return { ok: await call() };
  } catch (error) {
    return { error: errorInfo(error) };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const doc = env.DOCS.getByName(url.searchParams.get("doc") ?? "readme");
    switch (url.pathname) {
      case "/visit":
        return Response.json(await doc.visit());
      case "/stats":
        return Response.json(await doc.stats());
      case "/block": {
        const block = url.searchParams.get("block") === "1";
        // Sent in this order over one stub: E-order delivers them in order.
        const [updated, ...peeks] = await Promise.all([doc.slowUpdate(block), doc.peek(), doc.peek()]);
        return Response.json({ updated, peeks });
      }
      case "/failing-block":
        return Response.json(await settle(() => doc.failingBlock()));
      case "/peek":
        return Response.json(await settle(() => doc.peek()));
      case "/failing-block-queued": {
        // Sent in this order over one stub: the peeks and the visit wait
        // behind the failing block, and share its fate.
        const results = await Promise.all([
          settle(() => doc.failingBlock()),
          settle(() => doc.peek()),
          settle(() => doc.visit()),
        ]);
        return Response.json(results);
      }
      case "/write":
        return Response.json(await doc.write(["one", "two", "three"]));
      case "/snapshot":
        return Response.json(await doc.snapshot());
      case "/wipe":
        return Response.json(await doc.wipe());
      case "/rebuild":
        return Response.json(await doc.rebuild());
      case "/broken":
        return Response.json(await settle(() => env.DOCS.getByName("broken").stats()));
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
