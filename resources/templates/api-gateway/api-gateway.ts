import { DurableObject } from "cloudflare:workers";

/**
 * API Gateway: API keys for programmatic clients, kept (hashed) in the
 * shared database (D1), and one object per key that enforces the key's
 * rate limit and makes the calls: to the user's data (RPC to Data Storage)
 * and out to a third-party API (plain fetch; Terrarium can mock it). Every
 * call is published as `api.called`.
 */

interface Env {
  DB: D1Database;
  DATA: DurableObjectNamespace;
  EVENTS: { publish(topic: string, data: unknown): Promise<{ id: number }> };
  THIRD_PARTY_URL: string;
}

/** What this class calls on Data Storage. */
interface DataStoreRpc {
  records(): Promise<unknown[]>;
}

export interface ApiKey {
  id: string;
  userId: string;
  label: string;
}

/** Calls a key may make per window; the window starts at the key's first call. */
export const RATE_LIMIT = 5;
export const RATE_WINDOW_MS = 60_000;

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function ensureSchema(db: D1Database): Promise<void> {
  await db.exec(
    "CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL)",
  );
}

/** Makes a key for a user; the key itself is shown once and stored only as a hash. */
export async function issueApiKey(
  db: D1Database,
  userId: string,
  label: string,
): Promise<{ key: string } & ApiKey> {
  await ensureSchema(db);
  const secret = [...crypto.getRandomValues(new Uint8Array(20))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  const key = `tk_${secret}`;
  const id = key.slice(3, 15);
  await db
    .prepare("INSERT INTO api_keys (id, user_id, key_hash, label) VALUES (?, ?, ?, ?)")
    .bind(id, userId, await sha256(key), label)
    .run();
  return { key, id, userId, label };
}

export async function findApiKey(db: D1Database, key: string): Promise<ApiKey | null> {
  await ensureSchema(db);
  const row = await db
    .prepare("SELECT id, user_id AS userId, label FROM api_keys WHERE key_hash = ?")
    .bind(await sha256(key))
    .first<ApiKey>();
  return row ?? null;
}

export async function listApiKeys(db: D1Database, userId: string): Promise<ApiKey[]> {
  await ensureSchema(db);
  const { results } = await db
    .prepare("SELECT id, user_id AS userId, label FROM api_keys WHERE user_id = ? ORDER BY label, id")
    .bind(userId)
    .all<ApiKey>();
  return results;
}

export type GatewayAnswer = { status: number; body: unknown; retryAfterSeconds?: number };

export class ApiGateway extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS window (id INTEGER PRIMARY KEY CHECK (id = 1), started_at INTEGER NOT NULL, calls INTEGER NOT NULL)",
    );
  }

  /** Counts a call against the window; false when the key is over its limit. */
  #admit(): { ok: boolean; retryAfterSeconds: number } {
    const now = Date.now();
    const w = this.ctx.storage.sql
      .exec<{ started_at: number; calls: number }>("SELECT started_at, calls FROM window")
      .toArray()[0];
    if (!w || now - w.started_at >= RATE_WINDOW_MS) {
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO window (id, started_at, calls) VALUES (1, ?, 1)",
        now,
      );
      return { ok: true, retryAfterSeconds: 0 };
    }
    if (w.calls >= RATE_LIMIT) {
      return { ok: false, retryAfterSeconds: Math.ceil((w.started_at + RATE_WINDOW_MS - now) / 1000) };
    }
    this.ctx.storage.sql.exec("UPDATE window SET calls = calls + 1");
    return { ok: true, retryAfterSeconds: 0 };
  }

  async call(key: ApiKey, route: string): Promise<GatewayAnswer> {
    const admitted = this.#admit();
    let answer: GatewayAnswer;
    if (!admitted.ok) {
      answer = {
        status: 429,
        body: { error: "rate limit exceeded" },
        retryAfterSeconds: admitted.retryAfterSeconds,
      };
    } else if (route === "records") {
      const data = this.env.DATA.getByName(key.userId) as unknown as DataStoreRpc;
      answer = { status: 200, body: { records: await data.records() } };
    } else if (route === "quote") {
      answer = await this.#thirdParty();
    } else {
      answer = { status: 404, body: { error: `no API route ${route}` } };
    }
    await this.env.EVENTS.publish("api.called", {
      keyId: key.id,
      userId: key.userId,
      route,
      status: answer.status,
    });
    return answer;
  }

  async #thirdParty(): Promise<GatewayAnswer> {
    try {
      const res = await fetch(this.env.THIRD_PARTY_URL, { headers: { accept: "application/json" } });
      if (!res.ok) return { status: 502, body: { error: `the upstream API answered ${res.status}` } };
      return { status: 200, body: { quote: await res.json() } };
    } catch (e) {
      return { status: 502, body: { error: "the upstream API is unreachable", detail: String(e) } };
    }
  }
}
