import { DurableObject } from "cloudflare:workers";

export interface Env {
  COUNTER: DurableObjectNamespace<Counter>;
}

export class Counter extends DurableObject<Env> {
  // The read and the write are separate storage calls; input gates keep
  // concurrent requests from interleaving between them.
  async increment(by = 1): Promise<number> {
    const current = (await this.ctx.storage.get<number>("count")) ?? 0;
    const next = current + by;
    await this.ctx.storage.put("count", next);
    return next;
  }

  async read(): Promise<{ count: number | null; missing: boolean }> {
    const count = await this.ctx.storage.get<number>("count");
    return { count: count ?? null, missing: count === undefined };
  }

  async reset(): Promise<boolean> {
    return this.ctx.storage.delete("count");
  }

  // The same counter over the legacy fetch interface.
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/increment" && request.method === "POST") {
      return Response.json({ count: await this.increment() });
    }
    return Response.json({ error: "not found", path: url.pathname }, { status: 404 });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "default";
    const stub = env.COUNTER.getByName(name);
    switch (url.pathname) {
      case "/increment": {
        const by = Number(url.searchParams.get("by") ?? "1");
        return Response.json({ name, count: await stub.increment(by) });
      }
      case "/count":
        return Response.json({ name, ...(await stub.read()) });
      case "/reset":
        return Response.json({ name, deleted: await stub.reset() });
      case "/fetch-increment": {
        const response = await stub.fetch("https://counter/increment", { method: "POST" });
        return Response.json({ name, status: response.status, body: await response.json() });
      }
      case "/fetch-missing": {
        const response = await stub.fetch("https://counter/nowhere");
        return Response.json({ name, status: response.status, body: await response.json() });
      }
      case "/text":
        return new Response(`counter ${name}`);
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
