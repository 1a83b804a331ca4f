import { DurableObject } from "cloudflare:workers";

declare const __FLAVOR__: string;

export class Counter extends DurableObject {
  async fetch(): Promise<Response> {
    const n = ((await this.ctx.storage.get<number>("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return Response.json({ n });
  }
}

export default {
  async fetch(request: Request, env: Record<string, unknown>): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/env") {
      const described = Object.keys(env)
        .sort()
        .map((k) => {
          const v = env[k];
          return [k, typeof v === "string" || typeof v === "number" ? v : typeof v];
        });
      return Response.json({
        env: described,
        flavor: typeof __FLAVOR__ === "undefined" ? "(not defined)" : __FLAVOR__,
      });
    }
    if (url.pathname === "/count") {
      const ns = env.TALLY as DurableObjectNamespace;
      const id = ns.idFromName("visits");
      const r = await ns.get(id).fetch("http://do/");
      return Response.json({ id: id.toString(), ...((await r.json()) as object) });
    }
    return new Response("not found", { status: 404 });
  },
};
