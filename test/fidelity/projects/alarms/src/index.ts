import { DurableObject } from "cloudflare:workers";

export interface Env {
  REMINDERS: DurableObjectNamespace<Reminder>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Reminder extends DurableObject<Env> {
  async schedule(delayMs: number) {
    const before = await this.ctx.storage.getAlarm();
    const at = Date.now() + delayMs;
    await this.ctx.storage.setAlarm(at);
    const after = await this.ctx.storage.getAlarm();
    const relation = after === null ? "none" : after === at ? "as set" : after > at ? "later" : "earlier";
    return { before, relation };
  }

  async cancel() {
    await this.ctx.storage.deleteAlarm();
    return { after: await this.ctx.storage.getAlarm() };
  }

  async fired() {
    return {
      runs: (await this.ctx.storage.get<number>("runs")) ?? 0,
      info: (await this.ctx.storage.get("info")) ?? null,
      pending: (await this.ctx.storage.getAlarm()) !== null,
    };
  }

  override async alarm(info?: AlarmInvocationInfo) {
    const runs = ((await this.ctx.storage.get<number>("runs")) ?? 0) + 1;
    await this.ctx.storage.put({
      runs,
      info: { retryCount: info?.retryCount ?? null, isRetry: info?.isRetry ?? null },
    });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const reminder = env.REMINDERS.getByName(url.searchParams.get("name") ?? "r");
    switch (url.pathname) {
      case "/schedule":
        return Response.json(await reminder.schedule(Number(url.searchParams.get("delay") ?? "100")));
      case "/cancel":
        return Response.json(await reminder.cancel());
      case "/fired":
        return Response.json(await reminder.fired());
      // Polls until the alarm has run, or gives up after five seconds.
      case "/wait": {
        for (let i = 0; i < 50; i++) {
          const state = await reminder.fired();
          if (state.runs > 0 && !state.pending) return Response.json(state);
          await sleep(100);
        }
        return Response.json({ timedOut: true, ...(await reminder.fired()) });
      }
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
