/**
 * The benchmark's Durable Object project. It runs unchanged under workerd
 * and under Terrarium.
 *
 * `Counter` is a plain class taking (ctx, env) rather than a subclass of
 * `DurableObject` from "cloudflare:workers": both runtimes accept either for
 * fetch(), the hot path is the same, and this way the file type-checks under
 * the repository's tsconfig (which has no Workers types) with the minimal
 * local types below.
 */

interface SqlCursor<T> {
  one(): T;
}

interface CounterState {
  storage: { sql: { exec<T>(query: string, ...bindings: unknown[]): SqlCursor<T> } };
}

interface Stub {
  fetch(request: Request): Promise<Response>;
}

interface Env {
  COUNTER: { getByName(name: string): Stub };
}

const UPSERT =
  "INSERT INTO counts (id, value) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET value = value + 1 RETURNING value";

export class Counter {
  readonly #ctx: CounterState;

  constructor(ctx: CounterState, _env: Env) {
    this.#ctx = ctx;
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS counts (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)",
    );
  }

  /** One SQL upsert per request; the body is the new value. */
  async fetch(_request: Request): Promise<Response> {
    const { value } = this.#ctx.storage.sql.exec<{ value: number }>(UPSERT).one();
    return new Response(String(value));
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    const name = pathname.startsWith("/c/") ? decodeURIComponent(pathname.slice(3)) : "";
    if (name === "") return new Response("GET /c/<name>\n", { status: 404 });
    return env.COUNTER.getByName(name).fetch(request);
  },
};
