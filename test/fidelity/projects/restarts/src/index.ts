import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";

interface Env {
  KV: KVNamespace;
  JOBS: Queue<{ name: string }>;
  STEPS: Workflow<{ label: string }>;
  WAITS: Workflow<{ label: string }>;
}

/** Counts a step's executions in KV, so a step run again after a restart shows. */
async function count(env: Env, key: string): Promise<number> {
  const n = Number((await env.KV.get(`count:${key}`)) ?? "0") + 1;
  await env.KV.put(`count:${key}`, String(n));
  return n;
}

export class Steps extends WorkflowEntrypoint<Env, { label: string }> {
  async run(event: WorkflowEvent<{ label: string }>, step: WorkflowStep) {
    const first = await step.do("first", async () => ({ runs: await count(this.env, "first") }));
    await step.sleep("nap", "3 seconds");
    const second = await step.do("second", async () => ({ runs: await count(this.env, "second") }));
    return { label: event.payload.label, first, second };
  }
}

export class Waits extends WorkflowEntrypoint<Env, { label: string }> {
  async run(event: WorkflowEvent<{ label: string }>, step: WorkflowStep) {
    const before = await step.do("before", async () => ({ runs: await count(this.env, "before") }));
    const got = await step.waitForEvent<{ answer: number }>("answer", { type: "answer", timeout: "1 hour" });
    return { label: event.payload.label, before, answer: got.payload.answer, type: got.type };
  }
}

/** A workflow instance's status, without what differs by run (step outputs' timing). */
async function status(binding: Workflow, id: string) {
  const s = await (await binding.get(id)).status();
  return { status: s.status, output: s.output ?? null, error: s.error ?? null };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const far = Math.floor(Date.UTC(2037, 0, 1) / 1000);
    switch (url.pathname) {
      case "/kv/put":
        await env.KV.put("k:keeps", "value", { expiration: far, metadata: { by: "put" } });
        await env.KV.put("k:plain", "no expiry");
        return Response.json({ ok: true });
      case "/kv/read": {
        const list = await env.KV.list({ prefix: "k:" });
        const { value, metadata } = await env.KV.getWithMetadata("k:keeps");
        return Response.json({
          keys: list.keys,
          value,
          metadata,
          plain: await env.KV.get("k:plain"),
        });
      }
      case "/queue/send":
        await env.JOBS.send({ name: "later" });
        return Response.json({ sent: true });
      case "/queue/seen": {
        const raw = await env.KV.get("seen");
        return Response.json(raw ? JSON.parse(raw) : []);
      }
      case "/steps/create":
        await env.STEPS.create({ id: "steps-1", params: { label: "resumed" } });
        return Response.json({ created: true });
      case "/steps/status":
        return Response.json(await status(env.STEPS, "steps-1"));
      case "/waits/create":
        await env.WAITS.create({ id: "waits-1", params: { label: "waited" } });
        return Response.json({ created: true });
      case "/waits/status":
        return Response.json(await status(env.WAITS, "waits-1"));
      case "/waits/send":
        await (await env.WAITS.get("waits-1")).sendEvent({ type: "answer", payload: { answer: 42 } });
        return Response.json({ sent: true });
      case "/counts": {
        const keys = await env.KV.list({ prefix: "count:" });
        const out: Record<string, string | null> = {};
        for (const k of keys.keys) out[k.name] = await env.KV.get(k.name);
        return Response.json(out);
      }
      default:
        return new Response("not found", { status: 404 });
    }
  },

  // The first attempt is retried 4 s later: the restart comes while it waits.
  async queue(batch: MessageBatch<{ name: string }>, env: Env): Promise<void> {
    const seen = JSON.parse((await env.KV.get("seen")) ?? "[]") as { name: string; attempts: number }[];
    for (const m of batch.messages) {
      seen.push({ name: m.body.name, attempts: m.attempts });
      if (m.attempts === 1) m.retry({ delaySeconds: 4 });
      else m.ack();
    }
    await env.KV.put("seen", JSON.stringify(seen));
  },
};
