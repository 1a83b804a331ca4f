import { DurableObject } from "cloudflare:workers";

export interface Env {
  GATE: DurableObjectNamespace<Gate>;
}

export class Gate extends DurableObject<Env> {
  // The put resolves before workerd commits it; abort() in the same event
  // discards it. Terrarium commits every write at once, so it stays.
  async writeThenAbort() {
    await this.ctx.storage.put("written", true);
    try {
      this.ctx.abort("after the write");
    } catch {
      // The call fails anyway: the object is reset.
    }
    return "unreachable";
  }

  async read() {
    return (await this.ctx.storage.get("written")) ?? null;
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const gate = env.GATE.getByName("g");
    const url = new URL(request.url);
    if (url.pathname === "/write") {
      try {
        return Response.json({ ok: await gate.writeThenAbort() });
      } catch (error) {
        return Response.json({ error: String(error) });
      }
    }
    return Response.json({ written: await gate.read() });
  },
};
