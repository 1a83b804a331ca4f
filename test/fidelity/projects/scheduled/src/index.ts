interface Env {
  SEEN: KVNamespace;
}

const failure = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** A time the trigger gave, or "about now" for one it took from the clock (the runs differ by ms). */
function time(t: number): unknown {
  return Math.abs(Date.now() - t) < 10 * 60_000 ? "about now" : t;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/seen") return new Response(`fetch ${url.pathname}`);
    const list = await env.SEEN.list();
    const out: Record<string, unknown> = {};
    for (const k of list.keys) out[k.name] = await env.SEEN.get(k.name, "json");
    return Response.json(out);
  },

  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    const c = controller as ScheduledController & { type?: unknown };
    let unbound: string;
    try {
      const f = c.noRetry;
      f();
      unbound = "called";
    } catch (e) {
      unbound = failure(e);
    }
    const seen: Record<string, unknown> = {
      cron: c.cron,
      scheduledTime: time(c.scheduledTime),
      timeType: typeof c.scheduledTime,
      type: c.type === undefined ? "absent" : c.type,
      hasType: "type" in c,
      keys: Object.keys(c),
      prototype: Object.getOwnPropertyNames(Object.getPrototypeOf(c)).sort(),
      tag: Object.prototype.toString.call(c),
      json: JSON.parse(JSON.stringify({ ...c, scheduledTime: time(c.scheduledTime) })),
      noRetry: String(c.noRetry()),
      noRetryAgain: String(c.noRetry()),
      unbound,
      waitUntil: typeof ctx.waitUntil,
      envKeys: Object.keys(env),
    };
    const key = c.cron || `(no cron) ${String(seen.scheduledTime)}`;
    if (c.cron === "wait") {
      // The trigger answers after this: /seen has it at once.
      ctx.waitUntil(new Promise((r) => setTimeout(r, 20)).then(() => env.SEEN.put("wait: later", '"done"')));
    }
    if (c.cron === "reject") ctx.waitUntil(Promise.reject(new Error("late failure")));
    await env.SEEN.put(key, JSON.stringify(seen));
    if (c.cron === "throw") throw new Error("scheduled failed");
    if (c.cron === "throw a string") throw "not an error";
  },
};
