import { DurableObject } from "cloudflare:workers";

/**
 * Analytics: ingests events (from the Event Bus, and from clients over
 * HTTP at /analytics/events) as raw rows, and rolls them up into
 * per-minute counts on an alarm, so reads stay cheap however much comes
 * in. terrarium.json shards this class by client when one object is not
 * enough. A summary counts both the rolled-up and the not-yet-rolled-up
 * events, so it does not depend on when the alarm last ran.
 */

interface BusEvent {
  id: number;
  topic: string;
  publishedAt: number;
}

/** Raw events are rolled up this long after the first one arrives. */
export const ROLLUP_AFTER_MS = 10_000;

/** This class needs no bindings. */
type Env = Record<string, never>;

export class Analytics extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS raw (n INTEGER PRIMARY KEY, topic TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS per_minute (
        topic TEXT NOT NULL, minute INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (topic, minute)
      );`);
  }

  /** Event Bus subscriber. */
  async ingest(event: BusEvent): Promise<void> {
    await this.#record(event.topic, event.publishedAt);
  }

  async #record(topic: string, at: number): Promise<void> {
    this.ctx.storage.sql.exec("INSERT INTO raw (topic, at) VALUES (?, ?)", topic, at);
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + ROLLUP_AFTER_MS);
  }

  /** Rolls raw events up into per-minute counts. */
  override async alarm(): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec(`
        INSERT INTO per_minute (topic, minute, count)
          SELECT topic, at / 60000, COUNT(*) FROM raw WHERE true GROUP BY topic, at / 60000
          ON CONFLICT (topic, minute) DO UPDATE SET count = count + excluded.count;
        DELETE FROM raw;`);
    });
  }

  summary(): { totals: Record<string, number>; total: number } {
    const rows = this.ctx.storage.sql
      .exec<{ topic: string; n: number }>(
        `SELECT topic, SUM(n) AS n FROM (
           SELECT topic, count AS n FROM per_minute UNION ALL SELECT topic, 1 AS n FROM raw
         ) GROUP BY topic ORDER BY topic`,
      )
      .toArray();
    const totals = Object.fromEntries(rows.map((r) => [r.topic, r.n]));
    return { totals, total: rows.reduce((s, r) => s + r.n, 0) };
  }

  /** Routed here by terrarium.json: POST /analytics/events {topic}, GET /analytics/summary. */
  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (request.method === "POST" && path === "/analytics/events") {
      const body = (await request.json().catch(() => null)) as { topic?: unknown } | null;
      const topic = body?.topic;
      if (typeof topic !== "string" || !/^[\w.-]{1,64}$/.test(topic)) {
        return Response.json({ error: "a topic (letters, digits, . - _) is required" }, { status: 400 });
      }
      await this.#record(`client.${topic}`, Date.now());
      return Response.json({ accepted: true }, { status: 202 });
    }
    if (request.method === "GET" && path === "/analytics/summary") return Response.json(this.summary());
    return Response.json({ error: "not found" }, { status: 404 });
  }
}
