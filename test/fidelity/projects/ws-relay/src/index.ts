import { DurableObject } from "cloudflare:workers";

interface Env {
  ROOM: DurableObjectNamespace<Room>;
}

/**
 * A Worker that reads an object's WebSocket itself (stub.fetch with
 * Upgrade, then accept() on the client end), as agents/mcp relays its
 * transport, instead of handing the socket to the HTTP client.
 */
export class Room extends DurableObject<Env> {
  async fetch(request: Request): Promise<Response> {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].send(`welcome to ${new URL(request.url).pathname}`);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const text = typeof message === "string" ? message : `<${message.byteLength} bytes>`;
    const seen = ((await this.ctx.storage.get<number>("seen")) ?? 0) + 1;
    await this.ctx.storage.put("seen", seen);
    if (text === "bye") ws.close(4000, "asked to leave");
    else ws.send(`${seen}: ${text}`);
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.ctx.storage.put("lastClose", `${code} ${reason}`);
  }

  async lastClose(): Promise<string | undefined> {
    return this.ctx.storage.get<string>("lastClose");
  }
}

/** Opens the room's socket, sends `messages`, and collects what comes back until the socket closes or `until` replies came. */
async function converse(env: Env, room: string, messages: (string | Uint8Array)[], until: number) {
  const response = await env.ROOM.getByName(room).fetch(`https://relay/${room}`, {
    headers: { Upgrade: "websocket" },
  });
  const ws = response.webSocket;
  if (!ws) return { status: response.status, error: "no webSocket" };
  ws.accept();
  const received: string[] = [];
  const done = new Promise<{ code: number; reason: string } | null>((resolve) => {
    ws.addEventListener("message", (e) => {
      received.push(typeof e.data === "string" ? e.data : `<binary ${(e.data as ArrayBuffer).byteLength}>`);
      if (received.length === until) resolve(null);
    });
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason }));
  });
  for (const m of messages) ws.send(m);
  const closed = await done;
  return { status: response.status, received, closed, readyState: ws.readyState };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/talk") {
      const result = await converse(env, "talk", ["hello", new Uint8Array([1, 2, 3]), "again"], 4);
      return Response.json(result);
    }
    if (url.pathname === "/leave") {
      const result = await converse(env, "leave", ["hi", "bye"], 99);
      return Response.json({ ...result, lastClose: await env.ROOM.getByName("leave").lastClose() });
    }
    if (url.pathname === "/hang-up") {
      const response = await env.ROOM.getByName("hang-up").fetch("https://relay/hang-up", {
        headers: { Upgrade: "websocket" },
      });
      const ws = response.webSocket!;
      ws.accept();
      const first = await new Promise<string>((resolve) =>
        ws.addEventListener("message", (e) => resolve(String(e.data)), { once: true }),
      );
      ws.close(1000, "relay done");
      return Response.json({ first });
    }
    if (url.pathname === "/last-close") {
      return Response.json({ lastClose: await env.ROOM.getByName("hang-up").lastClose() });
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
