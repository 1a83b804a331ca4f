/** An order as the shop keeps it in KV (`order:<id>`). */
export interface Order {
  id: string;
  item: string;
  qty: number;
  status: "received" | "reserved" | "shipped";
  signature: string;
  tracking?: string;
  paid?: number;
}

interface Fulfilment {
  shipping(id: string): Promise<{ status: string; output: unknown }>;
  pay(id: string, amount: number): Promise<{ sent: boolean }>;
}

interface Env {
  ORDERS: KVNamespace;
  ORDER_QUEUE: Queue<Order>;
  FULFILMENT: Service & Fulfilment;
  SIGNING_KEY: string;
}

/** HMAC-SHA256 of the order's id and item with the shop's secret, as hex. */
async function sign(env: Env, id: string, item: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(env.SIGNING_KEY),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}:${item}`));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function bad(message: string, status = 400): Response {
  return Response.json({ error: message }, { status });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[0] !== "orders") return bad("not found", 404);
    const id = parts[1];

    if (request.method === "GET" && id === undefined) {
      const list = await env.ORDERS.list({ prefix: "order:" });
      return Response.json({ keys: list.keys.map((k) => k.name), complete: list.list_complete });
    }
    if (id === undefined || !/^[a-z0-9-]{1,32}$/.test(id))
      return bad("an order id is 1 to 32 of a-z, 0-9, -");

    if (request.method === "POST" && parts.length === 2) {
      const body = (await request.json().catch(() => null)) as { item?: unknown; qty?: unknown } | null;
      if (typeof body?.item !== "string" || typeof body.qty !== "number" || body.qty < 1)
        return bad("an order needs an item and a qty of at least 1");
      if (await env.ORDERS.get(`order:${id}`)) return bad(`order ${id} exists`, 409);
      const order: Order = {
        id,
        item: body.item,
        qty: body.qty,
        status: "received",
        signature: await sign(env, id, body.item),
      };
      await env.ORDERS.put(`order:${id}`, JSON.stringify(order), { metadata: { item: order.item } });
      await env.ORDER_QUEUE.send(order);
      return Response.json(order, { status: 201 });
    }

    if (request.method === "GET" && parts.length === 2) {
      const { value, metadata } = await env.ORDERS.getWithMetadata<Order, { item: string }>(
        `order:${id}`,
        "json",
      );
      if (!value) return bad(`no order ${id}`, 404);
      const valid = value.signature === (await sign(env, value.id, value.item));
      return Response.json({ order: value, metadata, valid, shipping: await env.FULFILMENT.shipping(id) });
    }

    if (request.method === "POST" && parts[2] === "pay") {
      const body = (await request.json().catch(() => null)) as { amount?: unknown } | null;
      if (typeof body?.amount !== "number") return bad("a payment needs an amount");
      try {
        return Response.json(await env.FULFILMENT.pay(id, body.amount));
      } catch (e) {
        return bad(e instanceof Error ? e.message : String(e), 409);
      }
    }
    return bad("not found", 404);
  },
};
