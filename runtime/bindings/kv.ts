import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type Database from "better-sqlite3";
import { openSqlite } from "../shared/sqlite-native.ts";

/**
 * A Workers KV namespace on a local SQLite file, for `env.<binding>` in
 * object and entry workers. Every worker that binds the namespace opens the
 * same file (WAL), so all of a project's code sees one namespace, as on
 * Cloudflare, and it persists across restarts. Limits, validation and error
 * messages are workerd's under Miniflare (checked in test/fidelity/projects/kv):
 * keys up to 512 UTF-8 bytes (not "", "." or ".."), values up to 25 MiB,
 * metadata up to 1,024 bytes of JSON, expirations at least 60 s ahead,
 * bulk gets of up to 100 keys, lists of up to 1,000 keys a page.
 * NOTE: KV on Cloudflare is eventually consistent across locations; one
 * machine has one location, so reads see the last write at once.
 */

const MAX_KEY_BYTES = 512;
const MAX_VALUE_BYTES = 25 * 1024 * 1024;
const MAX_METADATA_BYTES = 1024;
const MAX_BULK_KEYS = 100;
const MAX_LIST_LIMIT = 1000;
const MIN_EXPIRATION_TTL = 60;

type ValueType = "text" | "json" | "arrayBuffer" | "stream";
const VALUE_TYPES: readonly string[] = ["text", "json", "arrayBuffer", "stream"];

interface Row {
  key: string;
  value: Buffer;
  expiration: number | null;
  metadata: string | null;
}

export interface KVListKey {
  name: string;
  expiration?: number;
  metadata?: unknown;
}

export type KVListResult =
  | { keys: KVListKey[]; list_complete: false; cursor: string; cacheStatus: null }
  | { keys: KVListKey[]; list_complete: true; cacheStatus: null };

interface PutOptions {
  expiration?: number;
  expirationTtl?: number;
  metadata?: unknown;
}

interface ListOptions {
  prefix?: string | null;
  limit?: number;
  cursor?: string | null;
}

function kvError(op: string, status: number, message: string): Error {
  return new Error(`KV ${op} failed: ${status} ${message}`);
}

function checkKey(op: string, key: unknown): string {
  const k = String(key);
  if (k === "") throw new TypeError("Key name cannot be empty.");
  if (k === "." || k === "..") throw new TypeError(`"${k}" is not allowed as a key name.`);
  const bytes = Buffer.byteLength(k, "utf8");
  if (bytes > MAX_KEY_BYTES) {
    throw kvError(op, 414, `UTF-8 encoded length of ${bytes} exceeds key length limit of ${MAX_KEY_BYTES}.`);
  }
  return k;
}

function valueType(typeOrOptions: unknown): ValueType {
  const type =
    typeof typeOrOptions === "string"
      ? typeOrOptions
      : typeOrOptions && typeof typeOrOptions === "object" && "type" in typeOrOptions
        ? (typeOrOptions as { type?: unknown }).type
        : undefined;
  if (type === undefined) return "text";
  if (typeof type !== "string" || !VALUE_TYPES.includes(type)) {
    throw new TypeError(
      'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".',
    );
  }
  return type as ValueType;
}

function decode(value: Buffer, type: ValueType): unknown {
  switch (type) {
    case "text":
      return value.toString("utf8");
    case "json":
      return JSON.parse(value.toString("utf8")) as unknown;
    case "arrayBuffer": {
      const out = new ArrayBuffer(value.byteLength);
      new Uint8Array(out).set(value);
      return out;
    }
    case "stream": {
      const bytes = new Uint8Array(value);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          if (bytes.byteLength > 0) controller.enqueue(bytes);
          controller.close();
        },
      });
    }
  }
}

async function encode(value: unknown): Promise<Buffer> {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value instanceof ArrayBuffer) return Buffer.from(new Uint8Array(value));
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ReadableStream) {
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = (value as ReadableStream<unknown>).getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      const buf =
        typeof chunk === "string"
          ? Buffer.from(chunk)
          : chunk instanceof ArrayBuffer
            ? Buffer.from(new Uint8Array(chunk))
            : ArrayBuffer.isView(chunk)
              ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
              : Buffer.from(String(chunk));
      size += buf.byteLength;
      if (size > MAX_VALUE_BYTES) {
        await reader.cancel();
        throw kvError("PUT", 413, `Value length of ${size} exceeds limit of ${MAX_VALUE_BYTES}.`);
      }
      chunks.push(buf);
    }
    return Buffer.concat(chunks);
  }
  return Buffer.from(String(value), "utf8");
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The expiration (seconds since the epoch) that put()'s options ask for, checked as workerd checks it. */
function expirationOf(opts: PutOptions): number | null {
  if (opts.expirationTtl !== undefined) {
    const ttl = Number.isFinite(opts.expirationTtl) ? Math.trunc(opts.expirationTtl) : 0;
    if (ttl <= 0)
      throw kvError("PUT", 400, `Invalid expiration_ttl of ${ttl}. Please specify integer greater than 0.`);
    if (ttl < MIN_EXPIRATION_TTL) {
      throw kvError(
        "PUT",
        400,
        `Invalid expiration_ttl of ${ttl}. Expiration TTL must be at least ${MIN_EXPIRATION_TTL}.`,
      );
    }
    return nowSeconds() + ttl;
  }
  if (opts.expiration !== undefined) {
    const at = Number.isFinite(opts.expiration) ? Math.trunc(opts.expiration) : 0;
    const now = nowSeconds();
    if (at <= now) {
      throw kvError(
        "PUT",
        400,
        `Invalid expiration of ${at}. Please specify integer greater than the current number of seconds since the UNIX epoch.`,
      );
    }
    if (at < now + MIN_EXPIRATION_TTL) {
      throw kvError(
        "PUT",
        400,
        `Invalid expiration of ${at}. Expiration times must be at least ${MIN_EXPIRATION_TTL} seconds in the future.`,
      );
    }
    return at;
  }
  return null;
}

function statements(db: Database.Database) {
  db.exec(`CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expiration INTEGER,
    metadata TEXT
  ) WITHOUT ROWID`);
  const get = db.prepare<[string, number], Row>(
    "SELECT key, value, expiration, metadata FROM kv WHERE key = ? AND (expiration IS NULL OR expiration > ?)",
  );
  const put = db.prepare<[string, Buffer, number | null, string | null]>(
    "INSERT INTO kv (key, value, expiration, metadata) VALUES (?, ?, ?, ?) " +
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value, expiration = excluded.expiration, metadata = excluded.metadata",
  );
  const del = db.prepare<[string]>("DELETE FROM kv WHERE key = ?");
  const list = db.prepare<
    [{ after: string; prefix: string; now: number; limit: number }],
    Omit<Row, "value">
  >(
    "SELECT key, expiration, metadata FROM kv WHERE key > @after AND substr(key, 1, length(@prefix)) = @prefix " +
      "AND (expiration IS NULL OR expiration > @now) ORDER BY key LIMIT @limit",
  );
  const purge = db.prepare<[number]>("DELETE FROM kv WHERE expiration IS NOT NULL AND expiration <= ?");
  const stats = db.prepare<[number], { keys: number; bytes: number }>(
    "SELECT count(*) AS keys, coalesce(sum(length(value)), 0) AS bytes FROM kv WHERE expiration IS NULL OR expiration > ?",
  );
  return { get, put, del, list, purge, stats };
}

/** `env.<binding>` for a `kv_namespaces` entry. */
export class KVNamespace {
  readonly #path: string;
  #db: Database.Database | null = null;
  #s: ReturnType<typeof statements> | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  #stmts(): ReturnType<typeof statements> {
    if (!this.#s) {
      mkdirSync(dirname(this.#path), { recursive: true });
      const db = openSqlite(this.#path);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("busy_timeout = 5000");
      this.#db = db;
      this.#s = statements(db);
    }
    return this.#s;
  }

  #row(key: string): Row | undefined {
    return this.#stmts().get.get(key, nowSeconds());
  }

  get(key: string | string[], typeOrOptions?: unknown): Promise<unknown> {
    return settle(() => {
      if (Array.isArray(key)) return this.#getBulk(key, typeOrOptions, false);
      const type = valueType(typeOrOptions);
      const row = this.#row(checkKey("GET", key));
      return row ? decode(row.value, type) : null;
    });
  }

  getWithMetadata(key: string | string[], typeOrOptions?: unknown): Promise<unknown> {
    return settle(() => {
      if (Array.isArray(key)) return this.#getBulk(key, typeOrOptions, true);
      const type = valueType(typeOrOptions);
      const row = this.#row(checkKey("GET", key));
      return {
        value: row ? decode(row.value, type) : null,
        metadata: row?.metadata ? (JSON.parse(row.metadata) as unknown) : null,
        cacheStatus: null,
      };
    });
  }

  #getBulk(keys: string[], typeOrOptions: unknown, withMetadata: boolean): Map<string, unknown> {
    const type = typeOrOptions === undefined ? "text" : valueType(typeOrOptions);
    if (type !== "text" && type !== "json") {
      throw kvError("GET_BULK", 400, `"${type}" is not a valid type. Use "json" or "text"`);
    }
    if (keys.length > MAX_BULK_KEYS) {
      throw kvError("GET_BULK", 400, `You can request a maximum of ${MAX_BULK_KEYS} keys`);
    }
    const out = new Map<string, unknown>();
    for (const key of keys) {
      const row = this.#row(checkKey("GET_BULK", key));
      if (!row) {
        out.set(key, null);
        continue;
      }
      const value = decode(row.value, type);
      out.set(
        key,
        withMetadata
          ? { value, metadata: row.metadata ? (JSON.parse(row.metadata) as unknown) : null }
          : value,
      );
    }
    return out;
  }

  async put(key: string, value: unknown, options: PutOptions = {}): Promise<void> {
    const k = checkKey("PUT", key);
    const expiration = expirationOf(options);
    let metadata: string | null = null;
    if (options.metadata !== undefined && options.metadata !== null) {
      metadata = JSON.stringify(options.metadata);
      const bytes = Buffer.byteLength(metadata, "utf8");
      if (bytes > MAX_METADATA_BYTES) {
        throw kvError("PUT", 413, `Metadata length of ${bytes} exceeds limit of ${MAX_METADATA_BYTES}.`);
      }
    }
    const encoded = await encode(value);
    if (encoded.byteLength > MAX_VALUE_BYTES) {
      throw kvError("PUT", 413, `Value length of ${encoded.byteLength} exceeds limit of ${MAX_VALUE_BYTES}.`);
    }
    this.#stmts().put.run(k, encoded, expiration, metadata);
  }

  delete(key: string): Promise<void> {
    return settle(() => {
      this.#stmts().del.run(checkKey("DELETE", key));
    });
  }

  list(options: ListOptions = {}): Promise<KVListResult> {
    return settle(() => {
      const limit = options.limit === undefined || options.limit === 0 ? MAX_LIST_LIMIT : options.limit;
      if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIST_LIMIT) {
        throw kvError(
          "GET",
          400,
          `Invalid key_count_limit of ${limit}. Please specify an integer less than ${MAX_LIST_LIMIT}.`,
        );
      }
      const s = this.#stmts();
      const now = nowSeconds();
      s.purge.run(now);
      const after = options.cursor ? Buffer.from(options.cursor, "base64url").toString("utf8") : "";
      const rows = s.list.all({ after, prefix: options.prefix ?? "", now, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const keys = page.map((r) => {
        const k: KVListKey = { name: r.key };
        if (r.expiration !== null) k.expiration = r.expiration;
        if (r.metadata !== null) k.metadata = JSON.parse(r.metadata) as unknown;
        return k;
      });
      const last = page[page.length - 1];
      if (rows.length > limit && last) {
        return {
          keys,
          list_complete: false,
          cursor: Buffer.from(last.key, "utf8").toString("base64url"),
          cacheStatus: null,
        };
      }
      return { keys, list_complete: true, cacheStatus: null };
    });
  }

  /**
   * One key as stored, for the Inspector: its bytes, expiration (seconds
   * since the epoch) and metadata; null when absent or expired.
   */
  entry(key: string): { value: Buffer; expiration: number | null; metadata: unknown } | null {
    const row = this.#row(checkKey("GET", key));
    if (!row) return null;
    return {
      value: row.value,
      expiration: row.expiration,
      metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as unknown),
    };
  }

  /** The keys not yet expired and their values' total size, for the Inspector. */
  stats(): { keys: number; bytes: number } {
    const row = this.#stmts().stats.get(nowSeconds());
    return { keys: row?.keys ?? 0, bytes: row?.bytes ?? 0 };
  }

  /** Closes the file (the worker is ending). */
  close(): void {
    this.#db?.close();
    this.#db = null;
    this.#s = null;
  }
}

/** Runs `fn` and hands back its result or error as a promise, as the binding's async methods do. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e as Error);
  }
}
