import {
  WorkerEntrypoint,
  WorkflowEntrypoint,
  type WorkflowEvent,
  type WorkflowStep,
} from "cloudflare:workers";

interface Order {
  id: string;
  item: string;
  qty: number;
  status: string;
  signature: string;
  tracking?: string;
  paid?: number;
}

interface Env {
  ORDERS: KVNamespace;
  SHIPPING: Workflow<Order>;
}

async function update(env: Env, id: string, change: Partial<Order>): Promise<Order> {
  const order = await env.ORDERS.get<Order>(`order:${id}`, "json");
  if (!order) throw new Error(`no order ${id}`);
  const next = { ...order, ...change };
  await env.ORDERS.put(`order:${id}`, JSON.stringify(next), { metadata: { item: next.item } });
  return next;
}

/** One order's shipping: reserve the stock, wait for its payment, ship it. */
export class Shipping extends WorkflowEntrypoint<Env, Order> {
  async run(event: WorkflowEvent<Order>, step: WorkflowStep): Promise<{ tracking: string; paid: number }> {
    const order = event.payload;
    const reserved = await step.do("reserve", async () => {
      await update(this.env, order.id, { status: "reserved" });
      return { reserved: order.qty };
    });
    const payment = await step.waitForEvent<{ amount: number }>("payment", {
      type: "paid",
      timeout: "1 hour",
    });
    return step.do("ship", async () => {
      const tracking = `TRK-${order.id}-${reserved.reserved}`;
      await update(this.env, order.id, { status: "shipped", tracking, paid: payment.payload.amount });
      return { tracking, paid: payment.payload.amount };
    });
  }
}

export default class Fulfilment extends WorkerEntrypoint<Env> {
  override async fetch(): Promise<Response> {
    return new Response("fulfilment has no HTTP API", { status: 404 });
  }

  /** The shop's orders: each starts its shipping workflow, keyed by the order id. */
  override async queue(batch: MessageBatch<Order>): Promise<void> {
    for (const m of batch.messages) {
      await this.env.SHIPPING.create({ id: m.body.id, params: m.body });
      m.ack();
    }
  }

  async shipping(id: string): Promise<{ status: string; output: unknown }> {
    try {
      const s = await (await this.env.SHIPPING.get(id)).status();
      return { status: s.status, output: s.output ?? null };
    } catch (e) {
      return { status: "none", output: e instanceof Error ? e.message : String(e) };
    }
  }

  async pay(id: string, amount: number): Promise<{ sent: boolean }> {
    await (await this.env.SHIPPING.get(id)).sendEvent({ type: "paid", payload: { amount } });
    return { sent: true };
  }
}
