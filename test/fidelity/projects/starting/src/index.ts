import { DurableObject } from "cloudflare:workers";

interface Env {
  ROOM: DurableObjectNamespace<Room>;
  LIMITER: DurableObjectNamespace<Limiter>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A rate limiter that takes 100 ms to start: every call must wait for it, in arrival order. */
export class Limiter extends DurableObject<Env> {
  ready = false;
  calls: string[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      await sleep(100);
      this.ready = true;
    });
  }

  take(who: string): { who: string; ready: boolean; n: number } {
    this.calls.push(who);
    return { who, ready: this.ready, n: this.calls.length };
  }

  order(): string[] {
    return this.calls;
  }

  override async fetch(request: Request): Promise<Response> {
    return Response.json(this.take(new URL(request.url).searchParams.get("who") ?? "?"));
  }
}

/** A chat room that also starts slowly, and asks the limiter about every message. */
export class Room extends DurableObject<Env> {
  ready = false;
  seen = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      await sleep(100);
      this.ready = true;
    });
  }

  override async fetch(request: Request): Promise<Response> {
    const limiter = new URL(request.url).searchParams.get("limiter") ?? "default";
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ limiter });
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const text = String(message);
    const { limiter } = ws.deserializeAttachment() as { limiter: string };
    this.seen++;
    ws.send(`got ${text} (seen ${this.seen}, ready ${this.ready})`);
    const r = await this.env.LIMITER.getByName(limiter).take(text);
    ws.send(`took ${r.who}: n ${r.n}, limiter ready ${r.ready}`);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    ws.close(code, reason);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const [, kind, name = "x"] = url.pathname.split("/");
    const who = url.searchParams.get("who") ?? "?";
    const limiter = env.LIMITER.getByName(name);
    switch (kind) {
      case "room":
        return env.ROOM.getByName(name).fetch(request);
      case "rpc":
        return Response.json(await limiter.take(who));
      case "fetch":
        return limiter.fetch(request);
      case "fanout": {
        // Five calls from one request, issued at once: they run in the order they were made.
        const results = await Promise.all([1, 2, 3, 4, 5].map((i) => limiter.take(`${who}${i}`)));
        return Response.json(results);
      }
      case "order":
        return Response.json(await limiter.order());
      default:
        return new Response("not found", { status: 404 });
    }
  },
} satisfies ExportedHandler<Env>;
