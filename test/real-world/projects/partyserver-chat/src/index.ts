import {
  getServerByName,
  routePartykitRequest,
  Server,
  type Connection,
  type ConnectionContext,
} from "partyserver";

interface Env {
  Chat: DurableObjectNamespace<Chat>;
  Cursors: DurableObjectNamespace<Cursors>;
}

interface ChatUser {
  user: string;
}

/** A PartyServer chat room, written as the partykit docs show it: hibernating, messages kept in SQL. */
export class Chat extends Server<Env> {
  static options = { hibernate: true };

  onStart(): void {
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, text TEXT NOT NULL)",
    );
  }

  #history(): { user: string; text: string }[] {
    return this.ctx.storage.sql
      .exec<{ user: string; text: string }>("SELECT user, text FROM messages ORDER BY id")
      .toArray();
  }

  onConnect(connection: Connection<ChatUser>, ctx: ConnectionContext): void {
    const user = new URL(ctx.request.url).searchParams.get("user") ?? "anonymous";
    connection.setState({ user });
    connection.send(JSON.stringify({ type: "welcome", room: this.name, history: this.#history() }));
    this.broadcast(JSON.stringify({ type: "joined", user }), [connection.id]);
  }

  onMessage(connection: Connection<ChatUser>, message: string | ArrayBuffer): void {
    const user = connection.state?.user ?? "anonymous";
    const text = typeof message === "string" ? message : `<${message.byteLength} bytes>`;
    const row = this.ctx.storage.sql
      .exec<{ id: number }>("INSERT INTO messages (user, text) VALUES (?, ?) RETURNING id", user, text)
      .one();
    this.broadcast(JSON.stringify({ type: "message", seq: row.id, user, text }));
  }

  onClose(connection: Connection<ChatUser>): void {
    this.broadcast(JSON.stringify({ type: "left", user: connection.state?.user ?? "anonymous" }), [
      connection.id,
    ]);
  }

  /** Called over RPC from the entry, through getServerByName. */
  history(): { room: string; messages: number } {
    return { room: this.name, messages: this.#history().length };
  }

  onRequest(request: Request): Response {
    const online = [...this.getConnections<ChatUser>()].map((c) => c.state?.user ?? "anonymous").sort();
    return Response.json({
      room: this.name,
      method: request.method,
      online,
      history: this.#history(),
    });
  }
}

/** A room that does not hibernate (PartyServer's default): connections are kept in memory. */
export class Cursors extends Server<Env> {
  onConnect(connection: Connection): void {
    connection.send(JSON.stringify({ type: "count", count: [...this.getConnections()].length }));
  }

  onMessage(connection: Connection, message: string | ArrayBuffer): void {
    this.broadcast(String(message), [connection.id]);
  }

  onRequest(): Response {
    return Response.json({ room: this.name, connections: [...this.getConnections()].length });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const room = /^\/api\/rooms\/([^/]+)$/.exec(new URL(request.url).pathname)?.[1];
    if (room) return Response.json(await (await getServerByName(env.Chat, room)).history());
    return (await routePartykitRequest(request, env)) ?? new Response("Not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
