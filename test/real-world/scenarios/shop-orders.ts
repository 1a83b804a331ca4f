import { http, until, type HttpAnswer, type Runtime } from "../harness.ts";

/**
 * Two Workers as `wrangler dev -c wrangler.jsonc -c fulfilment/wrangler.jsonc`
 * runs them: the shop keeps orders in KV, signs them with a `.dev.vars`
 * secret and sends them to a queue that the fulfilment Worker consumes; each
 * order starts a shipping workflow there (a step, a wait for the payment
 * event, a step), which the shop reaches over RPC. The payment is sent after
 * a restart, while the workflow waits for it.
 */

type OrderAnswer = { order?: { status?: string }; shipping?: { status?: string } };

/** Reads an order until its KV status and its workflow's status are what the step waits for. */
async function orderWhen(rt: Runtime, id: string, status: string, shipping: string): Promise<HttpAnswer> {
  let last: HttpAnswer | null = null;
  await until(`order ${id} ${status}, its workflow ${shipping}`, async () => {
    last = await http(rt, "GET", `/orders/${id}`);
    const b = last.body as OrderAnswer;
    return b.order?.status === status && b.shipping?.status === shipping;
  });
  return last!;
}

export async function scenario(rt: Runtime, note: (label: string, seen: unknown) => void): Promise<void> {
  note("an order without a qty", await http(rt, "POST", "/orders/a1", '{"item":"lamp"}'));
  note("a bad order id", await http(rt, "POST", "/orders/A_1", '{"item":"lamp","qty":1}'));
  note(
    "POST an order, signed with the secret",
    await http(rt, "POST", "/orders/a1", '{"item":"lamp","qty":2}'),
  );
  note("the same order again", await http(rt, "POST", "/orders/a1", '{"item":"lamp","qty":2}'));
  note("a second order", await http(rt, "POST", "/orders/b2", '{"item":"desk","qty":1}'));
  note("reserved by the workflow, waiting for payment", await orderWhen(rt, "a1", "reserved", "running"));
  note("the shop's KV keys", await http(rt, "GET", "/orders"));

  await rt.restart();
  note("after a restart, still waiting", await orderWhen(rt, "a1", "reserved", "running"));
  note("pay for a1", await http(rt, "POST", "/orders/a1/pay", '{"amount":30}'));
  note("a1 shipped with its payment", await orderWhen(rt, "a1", "shipped", "complete"));
  note("b2 still waits", await orderWhen(rt, "b2", "reserved", "running"));
  note("an order that does not exist", await http(rt, "GET", "/orders/zz"));
}
