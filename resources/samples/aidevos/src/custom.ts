import { DurableObject } from "cloudflare:workers";

/**
 * Custom: the template to copy for an object of your own. It shows the
 * parts most objects need: state in the object's SQLite database, an RPC
 * method other objects and the entry call, a fetch handler for requests
 * routed straight here (terrarium.json: "/custom/:name" -> this object),
 * and WebSockets with the hibernation API. Rename the class, keep what you
 * use.
 */

interface Env {
  EVENTS: { publish(topic: string, data: unknown): Promise<{ id: number }> };
}

export class Custom extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Runs on every start: keep schema changes idempotent.
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL)",
    );
  }

  /** RPC: `env.CUSTOM.getByName(name).addNote(text)`. */
  async addNote(text: string): Promise<{ id: number; count: number }> {
    const { id } = this.ctx.storage.sql
      .exec<{ id: number }>("INSERT INTO notes (text) VALUES (?) RETURNING id", text)
      .one();
    const count = this.ctx.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM notes").one().n;
    await this.env.EVENTS.publish("custom.note", { object: this.ctx.id.name ?? null, id });
    return { id, count };
  }

  notes(): { id: number; text: string }[] {
    return this.ctx.storage.sql
      .exec<{ id: number; text: string }>("SELECT id, text FROM notes ORDER BY id")
      .toArray();
  }

  /** HTTP, routed here by terrarium.json: GET lists notes, POST adds one, a WebSocket echoes. */
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1]);
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    if (request.method === "POST") {
      const text = (await request.text()).slice(0, 1000);
      if (!text) return Response.json({ error: "send the note as the body" }, { status: 400 });
      return Response.json(await this.addNote(text), { status: 201 });
    }
    return Response.json({ object: this.ctx.id.name ?? null, notes: this.notes() });
  }

  /** Hibernation API: the object may sleep between messages; this wakes it. */
  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    ws.send(typeof message === "string" ? `echo: ${message}` : message);
  }

  /** Completes the closing handshake the client started. */
  async webSocketClose(ws: WebSocket): Promise<void> {
    // Completes the client's close (before 2026-04-07 workerd leaves it to the object). Not
    // ws.close(code): a client's close without a code arrives as 1005, which close() refuses.
    ws.close();
  }
}
