import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";

export interface Env {
  ORDERS: Workflow;
  CHECKS: Workflow;
}

interface Order {
  qty: number;
  fail?: "fatal" | "timeout" | "throw";
}

function errorInfo(error: unknown) {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "?", message: String(error) };
}

async function settle(call: () => unknown) {
  try {
    const v = await call();
    return { ok: v === undefined ? "undefined" : v };
  } catch (error) {
    return { error: errorInfo(error) };
  }
}

/** An order: a step, a step that fails twice then succeeds, a sleep, then an approval event. */
export class OrderWorkflow extends WorkflowEntrypoint<Env, Order> {
  async run(event: WorkflowEvent<Order>, step: WorkflowStep) {
    const checked = await step.do("check", async () => ({ qty: event.payload.qty, ok: true }));
    let tries = 0;
    const flaky = await step.do(
      "flaky",
      { retries: { limit: 3, delay: 10, backoff: "constant" }, timeout: "1 minute" },
      async () => {
        tries++;
        if (tries < 3) throw new Error(`not yet (${tries})`);
        return tries;
      },
    );
    if (event.payload.fail === "fatal") {
      await step.do("fatal", async () => {
        throw new NonRetryableError("card declined");
      });
    }
    if (event.payload.fail === "throw") throw new RangeError(`bad quantity ${checked.qty}`);
    if (event.payload.fail === "timeout") {
      const timedOut = await step
        .do(
          "slow",
          { retries: { limit: 0, delay: 0 }, timeout: 50 },
          () => new Promise<void>((r) => setTimeout(r, 2000)),
        )
        .catch((e: unknown) => errorInfo(e));
      return { timedOut };
    }
    await step.sleep("cool down", "1 second");
    await step.sleepUntil("until", new Date(Date.now() + 100));
    const approval = await step.waitForEvent<{ by: string }>("approval", {
      type: "approved",
      timeout: "1 minute",
    });
    return { checked, flaky, approvedBy: approval.payload.by, type: approval.type };
  }
}

class CustomError extends Error {
  override name = "CustomError";
}

/** Bad step input: each call's error, returned as the output. */
export class CheckWorkflow extends WorkflowEntrypoint<Env, unknown> {
  async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
    const badConfig = await settle(() =>
      step.do("bad config", { retries: { limit: -1, delay: 0 } } as never, async () => 1),
    );
    const badName = await settle(() => step.do("x".repeat(300), async () => 1));
    const past = await settle(() => step.sleepUntil("past", new Date(Date.now() - 60_000)));
    const same1 = await step.do("same", async () => 1);
    const same2 = await step.do("same", async () => 2);
    const shortWait = await settle(() => step.waitForEvent("never", { type: "nope", timeout: 50 }));
    const retried = await settle(() =>
      step.do(
        "always fails",
        { retries: { limit: 2, delay: "10 millis" as WorkflowSleepDuration, backoff: "linear" } },
        async () => {
          throw new TypeError("broken");
        },
      ),
    );
    const custom = await settle(() =>
      step.do("custom error", { retries: { limit: 0, delay: 0 } }, async () => {
        throw new CustomError("special");
      }),
    );
    const replayed = await step.do("check", async () => "first");
    return { badConfig, badName, past, same1, same2, shortWait, retried, custom, replayed };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const id = url.searchParams.get("id") ?? "";
    const wf = url.searchParams.get("wf") === "checks" ? env.CHECKS : env.ORDERS;
    const body = request.method === "POST" ? ((await request.json()) as Record<string, unknown>) : {};
    switch (url.pathname) {
      case "/create": {
        const instance = await wf.create({ id, params: body });
        return Response.json({ id: instance.id });
      }
      case "/status": {
        const instance = await wf.get(id);
        return Response.json(await instance.status());
      }
      case "/event": {
        const instance = await wf.get(id);
        return Response.json(
          await settle(() => instance.sendEvent({ type: String(body.type), payload: body.payload })),
        );
      }
      case "/control": {
        const instance = await wf.get(id);
        const op = String(body.op) as "pause" | "resume" | "terminate" | "restart";
        return Response.json(await settle(() => instance[op]()));
      }
      case "/batch": {
        const made = await wf.createBatch([
          { id: `${id}-a`, params: { qty: 1 } },
          { id: `${id}-b`, params: { qty: 2 } },
        ]);
        return Response.json(made.map((i) => i.id));
      }
      case "/errors":
        return Response.json({
          badId: await settle(() => wf.create({ id: "not valid!" })),
          longId: await settle(() => wf.create({ id: "a".repeat(101) })),
          missing: await settle(() => wf.get("no-such-instance")),
          emptyBatch: await settle(() => wf.createBatch([])),
          generated: await settle(async () => (await wf.create()).id.length),
        });
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
