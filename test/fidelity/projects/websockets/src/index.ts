import { DurableObject } from "cloudflare:workers";

interface Env {
  CHAT: DurableObjectNamespace<Chat>;
  ECHO: DurableObjectNamespace<Echo>;
}

// The WebSocket Hibernation API, as the Cloudflare docs' chat examples use it.
export class Chat extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade") !== "websocket") {
      return Response.json({
        open: this.ctx.getWebSockets().length,
        messages: (await this.ctx.storage.get("messages")) ?? 0,
      });
    }
    const user = new URL(request.url).searchParams.get("user") ?? "anon";
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server, [user, "room"]);
    server.serializeAttachment({ user });
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const { user } = ws.deserializeAttachment() as { user: string };
    if (typeof message !== "string") {
      ws.send(new Uint8Array(message).map((b) => b * 2));
      return;
    }
    if (message === "info") {
      ws.send(
        JSON.stringify({
          user,
          tags: this.ctx.getTags(ws),
          room: this.ctx.getWebSockets("room").length,
          mine: this.ctx.getWebSockets(user).length,
        }),
      );
      return;
    }
    if (message === "leave") {
      ws.close(4000, `goodbye ${user}`);
      return;
    }
    const n = ((await this.ctx.storage.get<number>("messages")) ?? 0) + 1;
    await this.ctx.storage.put("messages", n);
    ws.send(`${user}:${n}:${message}`);
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    const closes = (await this.ctx.storage.get<string[]>("closes")) ?? [];
    closes.push(`${code}:${reason}`);
    await this.ctx.storage.put("closes", closes);
    // Completes the closing handshake, as the Cloudflare docs recommend.
    ws.close(code, reason);
  }

  async closes(): Promise<string[]> {
    return (await this.ctx.storage.get<string[]>("closes")) ?? [];
  }
}

// The standard API: accept() and event listeners.
export class Echo extends DurableObject<Env> {
  async fetch(): Promise<Response> {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    let count = 0;
    server.addEventListener("message", (event) => {
      count++;
      server.send(`echo ${count}: ${typeof event.data === "string" ? event.data : "binary"}`);
    });
    server.addEventListener("close", (event) => server.close(event.code, event.reason));
    return new Response(null, { status: 101, webSocket: client });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const [, kind, name = "main"] = url.pathname.split("/");
    if (kind === "chat") return env.CHAT.getByName(name).fetch(request);
    if (kind === "echo") return env.ECHO.getByName(name).fetch(request);
    if (kind === "closes") return Response.json(await env.CHAT.getByName(name).closes());
    if (kind === "no-upgrade") return new Response("refused", { status: 403 });
    return new Response("not found", { status: 404 });
  },
};
