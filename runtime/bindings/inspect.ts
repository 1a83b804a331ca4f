import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { runQuery, type QueryResult } from "../shared/sql-query.ts";
import { r2IndexPath, type D1Store, type R2IndexRow, type R2Store } from "./stores.ts";
import { openSqlite } from "../shared/sqlite-native.ts";

/**
 * The Inspector's view of the project's external systems: its D1 databases
 * and R2 buckets, read from the files the bindings write (runtime/bindings/
 * d1.ts, r2.ts). Every read opens the file read-only and closes it again,
 * so inspecting never creates a database or a bucket and never writes.
 */

export interface DatabaseTable {
  name: string;
  type: "table" | "view";
  sql: string;
  /** Rows in a table (null for a view). */
  rows: number | null;
}

export interface DatabaseInfo {
  binding: string;
  name: string;
  /** False until an object or the entry first uses the database. */
  exists: boolean;
  bytes: number;
  tables: DatabaseTable[];
}

export interface BucketInfo {
  binding: string;
  name: string;
  exists: boolean;
  objects: number;
  bytes: number;
}

export interface BucketObjectInfo {
  key: string;
  size: number;
  etag: string;
  /** Upload time, ms since the epoch. */
  uploaded: number;
  httpMetadata: Record<string, string>;
  customMetadata: Record<string, string>;
}

export interface BucketListing {
  objects: BucketObjectInfo[];
  truncated: boolean;
  /** Pass back as `cursor` for the next page (present when truncated). */
  cursor: string | null;
}

export interface BucketValue extends BucketObjectInfo {
  /**
   * The value as text when it is text (a textual content type, or no type
   * and valid UTF-8) and at most TEXT_PREVIEW_BYTES; else null and `why`.
   */
  text: string | null;
  why: string | null;
}

/** Values larger than this are not shown (only described). */
export const TEXT_PREVIEW_BYTES = 64 * 1024;

const TEXTUAL =
  /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded|x-ndjson)|[^;]*\+(json|xml))/i;

function fileBytes(path: string): number {
  let total = 0;
  for (const p of [path, `${path}-wal`]) if (existsSync(p)) total += statSync(p).size;
  return total;
}

function withReadOnly<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = openSqlite(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    return fn(db);
  } finally {
    db.close();
  }
}

const quoteId = (name: string): string => `"${name.replace(/"/g, '""')}"`;

// ---- D1 ----

export function databaseInfo(store: D1Store): DatabaseInfo {
  const base = { binding: store.binding, name: store.name };
  if (!existsSync(store.path)) return { ...base, exists: false, bytes: 0, tables: [] };
  const tables = withReadOnly(store.path, (db) => {
    const rows = db
      .prepare(
        "SELECT name, type, sql FROM sqlite_master WHERE type IN ('table', 'view') " +
          "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
      )
      .all() as { name: string; type: "table" | "view"; sql: string | null }[];
    return rows.map((t) => ({
      name: t.name,
      type: t.type,
      sql: t.sql ?? "",
      rows:
        t.type === "table"
          ? (db.prepare(`SELECT count(*) AS n FROM ${quoteId(t.name)}`).get() as { n: number }).n
          : null,
    }));
  });
  return { ...base, exists: true, bytes: fileBytes(store.path), tables };
}

/** One read-only statement on a D1 database; a statement that writes is refused. */
export function databaseQuery(
  store: D1Store,
  sql: string,
  params: readonly (string | number | null)[] = [],
  limit = 1000,
): QueryResult {
  if (!existsSync(store.path)) throw new Error(`${store.binding} has no data yet: nothing has used it`);
  return withReadOnly(store.path, (db) =>
    runQuery(db, sql, params, { limit, refusal: "this statement writes; the database page is read-only" }),
  );
}

// ---- R2 ----

function metadata(json: string): Record<string, string> {
  try {
    const v = JSON.parse(json) as unknown;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
  } catch {
    return {};
  }
}

function objectInfo(r: R2IndexRow): BucketObjectInfo {
  return {
    key: r.key,
    size: r.size,
    etag: r.etag,
    uploaded: r.uploaded,
    httpMetadata: metadata(r.http_metadata),
    customMetadata: metadata(r.custom_metadata),
  };
}

export function bucketInfo(store: R2Store): BucketInfo {
  const base = { binding: store.binding, name: store.name };
  if (!existsSync(r2IndexPath(store.path))) return { ...base, exists: false, objects: 0, bytes: 0 };
  const { n, bytes } = withReadOnly(
    r2IndexPath(store.path),
    (db) =>
      db.prepare("SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM objects").get() as {
        n: number;
        bytes: number;
      },
  );
  return { ...base, exists: true, objects: n, bytes };
}

/** Keys in order, `limit` at a time, under `prefix`; `cursor` continues a listing. */
export function bucketList(
  store: R2Store,
  opts: { prefix?: string; cursor?: string; limit?: number } = {},
): BucketListing {
  if (!existsSync(r2IndexPath(store.path))) return { objects: [], truncated: false, cursor: null };
  const prefix = opts.prefix ?? "";
  const limit = opts.limit ?? 100;
  const after = opts.cursor ? Buffer.from(opts.cursor, "base64url").toString("utf8") : "";
  const rows = withReadOnly(r2IndexPath(store.path), (db) => {
    const out: R2IndexRow[] = [];
    const it = db
      .prepare<[string, string], R2IndexRow>("SELECT * FROM objects WHERE key > ? AND key >= ? ORDER BY key")
      .iterate(after, prefix);
    for (const r of it) {
      if (!r.key.startsWith(prefix) || out.length > limit) break;
      out.push(r);
    }
    return out;
  });
  const truncated = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    objects: page.map(objectInfo),
    truncated,
    cursor: truncated && last ? Buffer.from(last.key, "utf8").toString("base64url") : null,
  };
}

/** One object's metadata and, when it is small text, its value. */
export function bucketValue(store: R2Store, key: string): BucketValue | null {
  if (!existsSync(r2IndexPath(store.path))) return null;
  const row = withReadOnly(
    r2IndexPath(store.path),
    (db) => db.prepare<[string], R2IndexRow>("SELECT * FROM objects WHERE key = ?").get(key) ?? null,
  );
  if (!row) return null;
  const info = objectInfo(row);
  const type = info.httpMetadata["contentType"] ?? "";
  if (type !== "" && !TEXTUAL.test(type)) return { ...info, text: null, why: `not text (${type})` };
  if (row.size > TEXT_PREVIEW_BYTES) {
    return { ...info, text: null, why: `larger than ${TEXT_PREVIEW_BYTES / 1024} KiB` };
  }
  const bytes = Buffer.alloc(row.size);
  if (row.size > 0) {
    const fd = openSync(join(store.path, "blobs", row.version), "r");
    try {
      readSync(fd, bytes, 0, row.size, 0);
    } finally {
      closeSync(fd);
    }
  }
  try {
    return { ...info, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), why: null };
  } catch {
    return { ...info, text: null, why: "not valid UTF-8 text" };
  }
}
