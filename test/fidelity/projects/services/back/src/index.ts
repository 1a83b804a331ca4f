import { WorkerEntrypoint } from "cloudflare:workers";

interface Env {
  WHO: string;
}

/** A named entrypoint (the binding's `entrypoint`), with no fetch(). */
export class Admin extends WorkerEntrypoint<Env> {
  whoami(): string {
    return `admin of ${this.env.WHO}`;
  }
}

export default class Back extends WorkerEntrypoint<Env> {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/teapot") return new Response("short and stout", { status: 418 });
    return Response.json(
      {
        method: request.method,
        path: url.pathname + url.search,
        host: url.host === "back.internal" ? url.host : "(the client's)",
        from: request.headers.get("x-from"),
        body: await request.text(),
      },
      { headers: { "x-back": this.env.WHO } },
    );
  }

  add(a: number, b: number): number {
    return a + b;
  }

  describe(v: unknown): unknown {
    return { got: v, type: typeof v };
  }

  fail(message: string): never {
    throw new RangeError(message);
  }

  get version(): string {
    return "1.2.3";
  }
}
