import { deserialize, serialize } from "node:v8";
import type Database from "better-sqlite3";

/** workerd's limits for the KV API on SQLite-backed objects. */
export const MAX_KEYS_PER_CALL = 128;
export const MAX_KEY_BYTES = 2048;
export const MAX_VALUE_BYTES = 2 * 1024 * 1024;

export interface ListOptions {
  start?: string;
  startAfter?: string;
  end?: string;
  prefix?: string;
  reverse?: boolean;
  limit?: number;
}

function checkKey(key: unknown): string {
  if (typeof key !== "string") throw new TypeError("Keys must be strings.");
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new RangeError(`Keys cannot be larger than ${MAX_KEY_BYTES} bytes.`);
  }
  return key;
}

function checkMany(keys: unknown[]): void {
  if (keys.length > MAX_KEYS_PER_CALL) {
    throw new RangeError(`Maximum number of keys is ${MAX_KEYS_PER_CALL}.`);
  }
}

function encode(value: unknown): Buffer {
  if (value === undefined) throw new TypeError("Values cannot be undefined.");
  const buf = serialize(value);
  if (buf.byteLength > MAX_VALUE_BYTES) {
    throw new RangeError(`Values cannot be larger than ${MAX_VALUE_BYTES} bytes.`);
  }
  return buf;
}

/** The smallest string greater than every string with this prefix. */
function prefixEnd(prefix: string): string | null {
  if (prefix === "") return null;
  const cps = [...prefix];
  for (let i = cps.length - 1; i >= 0; i--) {
    const cp = cps[i]!.codePointAt(0)!;
    if (cp < 0x10ffff) {
      return cps.slice(0, i).join("") + String.fromCodePoint(cp + 1);
    }
  }
  return null;
}

/**
 * The synchronous key-value store in the object's own SQLite file
 * (`_cf_KV`, as workerd names it). The async `ctx.storage.get/put/...` and
 * the sync `ctx.storage.kv` both sit on it.
 */
export class KvStore {
  readonly #get: Database.Statement<[string], { value: Buffer }>;
  readonly #put: Database.Statement<[string, Buffer]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #deleteAll: Database.Statement<[]>;
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
    db.exec("CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID");
    this.#get = db.prepare("SELECT value FROM _cf_KV WHERE key = ?");
    this.#put = db.prepare("INSERT INTO _cf_KV (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    this.#delete = db.prepare("DELETE FROM _cf_KV WHERE key = ?");
    this.#deleteAll = db.prepare("DELETE FROM _cf_KV");
  }

  get(key: string): unknown {
    const row = this.#get.get(checkKey(key));
    return row ? deserialize(row.value) : undefined;
  }

  getMany(keys: string[]): Map<string, unknown> {
    checkMany(keys);
    const out = new Map<string, unknown>();
    for (const k of [...keys].sort()) {
      const row = this.#get.get(checkKey(k));
      if (row) out.set(k, deserialize(row.value));
    }
    return out;
  }

  put(key: string, value: unknown): void {
    this.#put.run(checkKey(key), encode(value));
  }

  putMany(entries: Record<string, unknown>): void {
    const list = Object.entries(entries);
    checkMany(list);
    const encoded = list.map(([k, v]) => [checkKey(k), encode(v)] as const);
    this.#db.transaction(() => {
      for (const [k, v] of encoded) this.#put.run(k, v);
    })();
  }

  delete(key: string): boolean {
    return this.#delete.run(checkKey(key)).changes > 0;
  }

  deleteMany(keys: string[]): number {
    checkMany(keys);
    let n = 0;
    this.#db.transaction(() => {
      for (const k of keys) n += this.#delete.run(checkKey(k)).changes;
    })();
    return n;
  }

  deleteAll(): void {
    this.#deleteAll.run();
  }

  list(options: ListOptions = {}): Map<string, unknown> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (options.start !== undefined && options.startAfter !== undefined) {
      throw new TypeError("list() cannot be called with both start and startAfter values.");
    }
    if (options.start !== undefined) {
      where.push("key >= ?");
      params.push(options.start);
    }
    if (options.startAfter !== undefined) {
      where.push("key > ?");
      params.push(options.startAfter);
    }
    if (options.end !== undefined) {
      where.push("key < ?");
      params.push(options.end);
    }
    if (options.prefix !== undefined && options.prefix !== "") {
      where.push("key >= ?");
      params.push(options.prefix);
      const end = prefixEnd(options.prefix);
      if (end !== null) {
        where.push("key < ?");
        params.push(end);
      }
    }
    let sql = "SELECT key, value FROM _cf_KV";
    if (where.length) sql += ` WHERE ${where.join(" AND ")}`;
    sql += options.reverse ? " ORDER BY key DESC" : " ORDER BY key ASC";
    if (options.limit !== undefined) {
      if (!Number.isInteger(options.limit) || options.limit <= 0) {
        throw new TypeError("List limit must be a positive integer.");
      }
      sql += " LIMIT ?";
      params.push(options.limit);
    }
    const rows = this.#db.prepare(sql).all(...params) as { key: string; value: Buffer }[];
    const out = new Map<string, unknown>();
    for (const r of rows) out.set(r.key, deserialize(r.value));
    return out;
  }
}
