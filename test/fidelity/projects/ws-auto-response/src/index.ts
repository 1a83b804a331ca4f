import { DurableObject } from "cloudflare:workers";

interface Env {
  ROOM: DurableObjectNamespace<Room>;
}

/**
 * A heartbeat as apps write it: the runtime answers "ping" with "pong"
 * without waking the object, and the object asks when it last did so.
 */
export class Room extends DurableObject<Env> {
  #openedAt = 0;

  async fetch(): Promise<Response> {
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    this.#openedAt = Date.now();
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  async webSocketMessage(ws: WebSocket): Promise<void> {
    const at = this.ctx.getWebSocketAutoResponseTimestamp(ws);
    if (at === null) ws.send("no auto-response yet");
    else
      ws.send(
        `${at instanceof Date ? "a Date" : typeof at}, ${at.getTime() >= this.#openedAt - 1 && at.getTime() <= Date.now() ? "since the socket opened" : "out of range"}`,
      );
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    ws.close(code, reason);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    return env.ROOM.getByName("heartbeat").fetch(request);
  },
} satisfies ExportedHandler<Env>;
