import { Agent, callable, getAgentByName, routeAgentRequest, type Connection } from "agents";

interface Env {
  Counter: DurableObjectNamespace<Counter>;
}

interface CounterState {
  count: number;
  lastBy: string | null;
  reminders: number;
}

/** A stateful agent: state synced to clients, callable methods, SQL, and a scheduled task. */
export class Counter extends Agent<Env, CounterState> {
  initialState: CounterState = { count: 0, lastBy: null, reminders: 0 };

  onStart(): void {
    this.sql`CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL)`;
  }

  @callable()
  increment(by: number, who: string): number {
    const count = this.state.count + by;
    this.setState({ ...this.state, count, lastBy: who });
    return count;
  }

  @callable()
  addNote(text: string): { id: number; notes: number } {
    const [row] = this.sql<{ id: number }>`INSERT INTO notes (text) VALUES (${text}) RETURNING id`;
    const [total] = this.sql<{ n: number }>`SELECT COUNT(*) AS n FROM notes`;
    return { id: row!.id, notes: total!.n };
  }

  @callable()
  notes(): string[] {
    return this.sql<{ text: string }>`SELECT text FROM notes ORDER BY id`.map((r) => r.text);
  }

  @callable()
  async remindMe(seconds: number, text: string): Promise<{ callback: string; type: string }> {
    const schedule = await this.schedule(seconds, "remind", { text });
    return { callback: schedule.callback, type: schedule.type };
  }

  @callable()
  pending(): number {
    return this.getSchedules().length;
  }

  async remind(payload: { text: string }): Promise<void> {
    this.sql`INSERT INTO notes (text) VALUES (${`reminder: ${payload.text}`})`;
    this.setState({ ...this.state, reminders: this.state.reminders + 1 });
  }

  onConnect(connection: Connection): void {
    connection.send(JSON.stringify({ type: "hello", agent: this.name }));
  }

  async onRequest(request: Request): Promise<Response> {
    return Response.json({
      agent: this.name,
      method: request.method,
      state: this.state,
      notes: this.notes(),
      pending: this.getSchedules().length,
    });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    // Server-side code calls an agent over Durable Object RPC.
    const name = /^\/api\/counters\/([^/]+)\/increment$/.exec(new URL(request.url).pathname)?.[1];
    if (name && request.method === "POST") {
      const agent = await getAgentByName(env.Counter, name);
      return Response.json({ count: await agent.increment(100, "server") });
    }
    return (await routeAgentRequest(request, env)) ?? new Response("Not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
