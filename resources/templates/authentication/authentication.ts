import { DurableObject } from "cloudflare:workers";

/**
 * Authentication: one object per email address. It keeps the account's
 * salted PBKDF2 hash and its sessions; a session token names the object
 * that issued it ("<base64url email>.<secret>"), so a request with a token
 * reaches the right object without a lookup. On sign-up it creates the
 * profile (RPC to User Management) and publishes `user.created`.
 */

interface Env {
  USERS: DurableObjectNamespace;
  EVENTS: { publish(topic: string, data: unknown): Promise<{ id: number }> };
}

/** What this class calls on User Management. */
interface UserProfilesRpc {
  create(profile: { userId: string; email: string; name: string }): Promise<unknown>;
}

export type AuthResult =
  { ok: true; userId: string; email: string; token: string } | { ok: false; status: number; error: string };

/** Workers allow at most 100,000 PBKDF2 iterations. */
const ITERATIONS = 100_000;
const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function base64url(text: string): string {
  return btoa(String.fromCharCode(...encoder.encode(text)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** The email a session token was issued for, or null for a malformed token. */
export function emailOfToken(token: string): string | null {
  const [part, secret] = token.split(".");
  if (!part || !secret) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", salt, iterations, hash: "SHA-256" },
    key,
    256,
  );
  return new Uint8Array(bits);
}

/** Compares in time independent of where the inputs differ. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

async function sha256(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

export class Authentication extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS account (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        user_id TEXT NOT NULL, email TEXT NOT NULL,
        salt BLOB NOT NULL, hash BLOB NOT NULL, iterations INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS sessions (
        token_hash TEXT PRIMARY KEY, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
      );`);
  }

  #account(): {
    user_id: string;
    email: string;
    salt: ArrayBuffer;
    hash: ArrayBuffer;
    iterations: number;
  } | null {
    return (
      this.ctx.storage.sql
        .exec<{ user_id: string; email: string; salt: ArrayBuffer; hash: ArrayBuffer; iterations: number }>(
          "SELECT user_id, email, salt, hash, iterations FROM account WHERE id = 1",
        )
        .toArray()[0] ?? null
    );
  }

  async #newSession(email: string): Promise<string> {
    const token = `${base64url(email)}.${hex(crypto.getRandomValues(new Uint8Array(24)))}`;
    const now = Date.now();
    this.ctx.storage.sql.exec(
      "INSERT INTO sessions (token_hash, created_at, expires_at) VALUES (?, ?, ?)",
      await sha256(token),
      now,
      now + SESSION_TTL_MS,
    );
    return token;
  }

  async signUp(email: string, password: string, name: string): Promise<AuthResult> {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
      return { ok: false, status: 400, error: "a valid email is required" };
    if (typeof password !== "string" || password.length < 8)
      return { ok: false, status: 400, error: "the password needs at least 8 characters" };
    if (this.#account()) return { ok: false, status: 409, error: "an account with this email exists" };
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const hash = await pbkdf2(password, salt, ITERATIONS);
    const userId = crypto.randomUUID();
    this.ctx.storage.sql.exec(
      "INSERT INTO account (id, user_id, email, salt, hash, iterations, created_at) VALUES (1, ?, ?, ?, ?, ?, ?)",
      userId,
      email,
      salt,
      hash,
      ITERATIONS,
      Date.now(),
    );
    const users = this.env.USERS.getByName(userId) as unknown as UserProfilesRpc;
    await users.create({ userId, email, name: name || email.split("@")[0]! });
    await this.env.EVENTS.publish("user.created", { userId, email, name });
    return { ok: true, userId, email, token: await this.#newSession(email) };
  }

  async logIn(email: string, password: string): Promise<AuthResult> {
    const account = this.#account();
    // The same work whether or not the account exists, so timing does not tell.
    const hash = await pbkdf2(
      String(password),
      account ? new Uint8Array(account.salt) : new Uint8Array(16),
      account?.iterations ?? ITERATIONS,
    );
    if (!account || !equalBytes(hash, new Uint8Array(account.hash))) {
      return { ok: false, status: 401, error: "wrong email or password" };
    }
    return { ok: true, userId: account.user_id, email, token: await this.#newSession(email) };
  }

  /** The user a token belongs to, or null when it is unknown, revoked or expired. */
  async verify(token: string): Promise<{ userId: string; email: string } | null> {
    const account = this.#account();
    if (!account) return null;
    const row = this.ctx.storage.sql
      .exec<{ expires_at: number }>(
        "SELECT expires_at FROM sessions WHERE token_hash = ?",
        await sha256(token),
      )
      .toArray()[0];
    if (!row || row.expires_at < Date.now()) return null;
    return { userId: account.user_id, email: account.email };
  }

  async logOut(token: string): Promise<boolean> {
    const deleted = this.ctx.storage.sql
      .exec("DELETE FROM sessions WHERE token_hash = ? RETURNING token_hash", await sha256(token))
      .toArray();
    return deleted.length > 0;
  }
}
