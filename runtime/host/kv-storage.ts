import { deserialize, serialize } from "node:v8";
import type Database from "better-sqlite3";
import { dataCloneError } from "../shared/errors.ts";

/**
 * Cloudflare's documented limits (128 keys per call, 2 KiB keys) are not
 * enforced by workerd locally, so Terrarium does not enforce them either;
 * the limits preview of a load run flags them instead.
 */
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
  return typeof key === "string" ? key : String(key);
}

function checkMany(_keys: unknown[]): void {}

/** A DataCloneError as workerd raises it (a DOMException). */
function cloneError(e: unknown): Error {
  return dataCloneError(e instanceof Error ? e.message : String(e)) as unknown as Error;
}

function encode(value: unknown): Buffer {
  if (value === undefined) throw new TypeError("put() called with undefined value.");
  let buf: Buffer;
  try {
    buf = serialize(value);
  } catch (e) {
    throw cloneError(e);
  }
  if (buf.byteLength > MAX_VALUE_BYTES) {
    throw new RangeError(`Values cannot be larger than ${MAX_VALUE_BYTES} bytes.`);
  }
  return buf;
}

/** Orders keys by their UTF-8 bytes, as SQLite and workerd do. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
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

interface KvStatements {
  get: Database.Statement<[string], { value: Buffer }>;
  put: Database.Statement<[string, Buffer]>;
  delete: Database.Statement<[string]>;
  deleteAll: Database.Statement<[]>;
}

/**
 * The synchronous key-value store in the object's own SQLite file
 * (`_cf_KV`, as workerd names it). The async `ctx.storage.get/put/...` and
 * the sync `ctx.storage.kv` both sit on it.
 */
export class KvStore {
  readonly #db: Database.Database;
  #s: KvStatements | null = null;

  constructor(db: Database.Database) {
    this.#db = db;
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_cf_KV'").get())
      this.#prepare();
  }

  /** Like workerd, the table appears with the first write. */
  #prepare(): KvStatements {
    if (!this.#s) {
      const db = this.#db;
      db.exec("CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID");
      this.#s = {
        get: db.prepare("SELECT value FROM _cf_KV WHERE key = ?"),
        put: db.prepare(
          "INSERT INTO _cf_KV (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        ),
        delete: db.prepare("DELETE FROM _cf_KV WHERE key = ?"),
        deleteAll: db.prepare("DELETE FROM _cf_KV"),
      };
    }
    return this.#s;
  }

  /** Forgets prepared statements (after deleteAll drops the table). */
  reset(): void {
    this.#s = null;
  }

  /** After a rollback: the table may have been created inside the transaction. */
  revalidate(): void {
    if (
      this.#s &&
      !this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_cf_KV'").get()
    )
      this.#s = null;
  }

  get(key: string): unknown {
    if (!this.#s) return undefined;
    const row = this.#s.get.get(checkKey(key));
    return row ? deserialize(row.value) : undefined;
  }

  getMany(keys: string[]): Map<string, unknown> {
    checkMany(keys);
    const out = new Map<string, unknown>();
    if (!this.#s) return out;
    const get = this.#s.get;
    for (const k of [...new Set(keys.map(checkKey))].sort(compareUtf8)) {
      const row = get.get(k);
      if (row) out.set(k, deserialize(row.value));
    }
    return out;
  }

  put(key: string, value: unknown): void {
    const encoded = encode(value);
    this.#prepare().put.run(checkKey(key), encoded);
  }

  /** Puts each entry; as workerd, an entry whose value is undefined is skipped (put(key, undefined) throws). */
  putMany(entries: Record<string, unknown>): void {
    const list = Object.entries(entries).filter(([, v]) => v !== undefined);
    checkMany(list);
    const encoded = list.map(([k, v]) => [checkKey(k), encode(v)] as const);
    const put = this.#prepare().put;
    this.#db.transaction(() => {
      for (const [k, v] of encoded) put.run(k, v);
    })();
  }

  delete(key: string): boolean {
    if (!this.#s) return false;
    return this.#s.delete.run(checkKey(key)).changes > 0;
  }

  deleteMany(keys: string[]): number {
    checkMany(keys);
    let n = 0;
    if (!this.#s) return 0;
    const del = this.#s.delete;
    this.#db.transaction(() => {
      for (const k of keys) n += del.run(checkKey(k)).changes;
    })();
    return n;
  }

  deleteAll(): void {
    this.#s?.deleteAll.run();
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
    if (!this.#s) return new Map();
    let sql = "SELECT key, value FROM _cf_KV";
    if (where.length) sql += ` WHERE ${where.join(" AND ")}`;
    sql += options.reverse ? " ORDER BY key DESC" : " ORDER BY key ASC";
    if (options.limit !== undefined) {
      if (!(options.limit > 0)) throw new TypeError("List limit must be positive.");
      sql += " LIMIT ?";
      params.push(Math.floor(options.limit));
    }
    const rows = this.#db.prepare(sql).all(...params) as { key: string; value: Buffer }[];
    const out = new Map<string, unknown>();
    for (const r of rows) out.set(r.key, deserialize(r.value));
    return out;
  }
}
