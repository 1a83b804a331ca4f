import { DurableObject } from "cloudflare:workers";

/**
 * Notification: one object per user. It queues notifications (from Event
 * Bus events) and pushes them to the user's connected clients over
 * WebSockets accepted with the hibernation API, so the object can sleep
 * while clients stay connected. A client acknowledges with
 * {"ack": <id>}; "ping" is answered "pong" without waking the object.
 */

interface BusEvent<T> {
  id: number;
  topic: string;
  data: T;
}

export interface Notice {
  id: number;
  text: string;
  read: boolean;
}

/** This class needs no bindings. */
type Env = Record<string, never>;

export class Notifications extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS notices (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id INTEGER UNIQUE, text TEXT NOT NULL, read INTEGER NOT NULL DEFAULT 0)",
    );
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async onUserCreated(event: BusEvent<{ name: string; email: string }>): Promise<void> {
    this.#enqueue(event.id, `Welcome, ${event.data.name || event.data.email}!`);
  }

  async onRecordCreated(event: BusEvent<{ title: string }>): Promise<void> {
    this.#enqueue(event.id, `Saved "${event.data.title}".`);
  }

  /** Queues a notice (once per event: delivery is at least once) and pushes it to every open socket. */
  #enqueue(eventId: number, text: string): void {
    const added = this.ctx.storage.sql
      .exec<{ id: number }>(
        "INSERT OR IGNORE INTO notices (event_id, text) VALUES (?, ?) RETURNING id",
        eventId,
        text,
      )
      .toArray()[0];
    if (!added) return;
    const message = JSON.stringify({ type: "notice", id: added.id, text });
    for (const ws of this.ctx.getWebSockets()) ws.send(message);
  }

  list(): Notice[] {
    return this.ctx.storage.sql
      .exec<{ id: number; text: string; read: number }>("SELECT id, text, read FROM notices ORDER BY id")
      .toArray()
      .map((n) => ({ id: n.id, text: n.text, read: n.read === 1 }));
  }

  markRead(id: number): boolean {
    return (
      this.ctx.storage.sql.exec("UPDATE notices SET read = 1 WHERE id = ? RETURNING id", id).toArray()
        .length > 0
    );
  }

  /** A WebSocket upgrade from the entry Worker (already authenticated). */
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    let parsed: { ack?: unknown } | null = null;
    try {
      parsed = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message)) as {
        ack?: unknown;
      };
    } catch {
      // not JSON
    }
    if (typeof parsed?.ack === "number") {
      ws.send(JSON.stringify({ type: "acked", id: parsed.ack, ok: this.markRead(parsed.ack) }));
    } else {
      ws.send(JSON.stringify({ type: "error", error: 'send {"ack": <id>} or "ping"' }));
    }
  }

  async webSocketClose(ws: WebSocket): Promise<void> {
    // Completes the client's close (before 2026-04-07 workerd leaves it to the object). Not
    // ws.close(code): a client's close without a code arrives as 1005, which close() refuses.
    ws.close();
  }
}
