import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { rewriteParams, toSqlError } from "../shared/sql-text.ts";
import { openSqlite } from "../shared/sqlite-native.ts";

/**
 * A D1 binding on a local SQLite file, for `env.<binding>` in object and
 * entry workers. Every worker that binds the database opens the same file
 * (WAL mode), so objects share it as they share a D1 database on
 * Cloudflare. Results are shaped as workerd's D1 client returns them under
 * Miniflare: BLOBs as arrays of bytes, booleans bound as 1/0, errors as
 * `D1_ERROR: <SQLite message>: SQLITE_...`, `run()` with its rows too.
 * NOTE: each worker has its own connection, so a read's `meta.last_row_id`
 * is the last insert on that worker's connection, not on the database.
 */

type D1Value = string | number | null | number[];
type Row = Record<string, D1Value>;

export interface D1Meta {
  served_by: string;
  duration: number;
  changes: number;
  last_row_id: number;
  changed_db: boolean;
  size_after: number;
  rows_read: number;
  rows_written: number;
}

export interface D1Result<T = Row> {
  success: true;
  results: T[];
  meta: D1Meta;
}

export interface D1ExecResult {
  count: number;
  duration: number;
}

const SERVED_BY = "terrarium.db";

interface Counts {
  t: number;
  r: number;
}

/** One statement's answer, before it takes the shape a method returns. */
interface Answer {
  columns: string[];
  rows: D1Value[][];
  meta: D1Meta;
}

function toResult(a: Answer): D1Result {
  return {
    success: true,
    results: a.rows.map((r) => Object.fromEntries(a.columns.map((c, i) => [c, r[i] ?? null]))),
    meta: a.meta,
  };
}

function d1Error(prefix: string, message: string): Error {
  return new Error(`${prefix}: ${message}`, { cause: new Error(message) });
}

/** workerd's D1 client: the values bind() accepts, converted as it converts them. */
function bindable(v: unknown): D1Value {
  const t = typeof v;
  if (t === "number" || t === "string") return v as number | string;
  if (t === "boolean") return v ? 1 : 0;
  if (t === "object") {
    if (v === null) return null;
    if (Array.isArray(v) && v.every((b) => typeof b === "number" && b >= 0 && b < 256)) return v as number[];
    if (v instanceof ArrayBuffer) return Array.from(new Uint8Array(v));
    if (ArrayBuffer.isView(v)) return Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  const message = `Type '${t}' not supported for value '${String(v)}'`;
  throw new Error(`D1_TYPE_ERROR: ${message}`, { cause: new Error(message) });
}

function toSqlite(v: D1Value): string | number | Buffer | null {
  return Array.isArray(v) ? Buffer.from(v) : v;
}

function fromSqlite(v: unknown): D1Value {
  if (Buffer.isBuffer(v)) return Array.from(v);
  if (typeof v === "bigint") return Number(v);
  return v as D1Value;
}

function isBlank(sql: string): boolean {
  return sql.replace(/^\s+--.*/gm, "").trim().length === 0;
}

export class D1Database {
  readonly #path: string;
  #db: Database.Database | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  /** @internal */
  get db(): Database.Database {
    if (!this.#db) {
      mkdirSync(dirname(this.#path), { recursive: true });
      const db = openSqlite(this.#path);
      db.pragma("journal_mode = WAL");
      db.pragma("busy_timeout = 5000");
      db.defaultSafeIntegers(false);
      this.#db = db;
    }
    return this.#db;
  }

  prepare(query: string): D1PreparedStatement {
    return new D1PreparedStatement(this, String(query), []);
  }

  /** Runs the statements in one transaction: all of them, or none. */
  async batch<T = Row>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    const queries = statements.map((s) => s.query);
    return this.run(queries, true).map((a) => toResult(a) as D1Result<T>);
  }

  /** Runs each line of `query` as a statement (as workerd's client splits it), without results. */
  async exec(query: string): Promise<D1ExecResult> {
    const lines = String(query).trim().split("\n");
    const queries = lines.filter((l) => !isBlank(l)).map((sql) => ({ sql, params: [] as D1Value[] }));
    let results: Answer[];
    try {
      results = this.run(queries, false);
    } catch (e) {
      const message = `Error in line 1: ${lines[0]}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`;
      throw d1Error("D1_EXEC_ERROR", message);
    }
    return { count: results.length, duration: results.reduce((s, r) => s + r.meta.duration, 0) };
  }

  /**
   * D1's Sessions API. One local database has no replicas, so a session
   * reads and writes the primary; its bookmark names the last commit seen.
   */
  withSession(_constraintOrBookmark?: string): D1DatabaseSession {
    return new D1DatabaseSession(this);
  }

  /** @deprecated in D1 as well: the database file's bytes. */
  async dump(): Promise<ArrayBuffer> {
    const buf = this.db.serialize();
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  }

  /** @internal Runs queries in one transaction, as D1 runs a request. */
  run(queries: { sql: string; params: D1Value[] }[], batch: boolean): Answer[] {
    const live = batch ? queries : queries.filter((q) => !isBlank(q.sql));
    if (live.length === 0) throw d1Error("D1_ERROR", "No SQL statements detected.");
    const db = this.db;
    try {
      return db.transaction(() => live.map((q) => this.#one(db, q)))();
    } catch (e) {
      throw d1Error("D1_ERROR", toSqlError(e, live[0]?.sql).message);
    }
  }

  #one(db: Database.Database, q: { sql: string; params: D1Value[] }): Answer {
    const started = performance.now();
    const before = db.prepare("SELECT total_changes() AS t, last_insert_rowid() AS r").get() as Counts;
    const sizeBefore = this.#size(db);
    let columns: string[] = [];
    let rows: D1Value[][] = [];
    let rowsRead = 0;
    let rowsWritten = 0;
    let stmt: Database.Statement | null = null;
    // better-sqlite3 binds by position only: `?NNN` becomes `?` and takes its binding by number.
    const { sql, order } = rewriteParams(q.sql);
    try {
      stmt = db.prepare(sql);
    } catch (e) {
      // NOTE: several statements in one query run as a script, without results.
      if (!(e instanceof RangeError)) throw e;
      db.exec(q.sql);
    }
    if (stmt) {
      const params = order.map((i) => toSqlite(q.params[i] ?? null));
      if (stmt.reader) {
        rows = (stmt.raw(true).all(...params) as unknown[][]).map((r) => r.map(fromSqlite));
        columns = stmt.columns().map((c) => c.name);
        rowsRead = rows.length;
      } else {
        rowsWritten = stmt.run(...params).changes;
      }
    }
    const after = db.prepare("SELECT total_changes() AS t, last_insert_rowid() AS r").get() as Counts;
    const sizeAfter = this.#size(db);
    const changes = after.t - before.t;
    return {
      columns,
      rows,
      meta: {
        served_by: SERVED_BY,
        duration: performance.now() - started,
        changes,
        last_row_id: after.r,
        changed_db: changes !== 0 || after.r !== before.r || sizeAfter !== sizeBefore,
        size_after: sizeAfter,
        rows_read: rowsRead,
        rows_written: rowsWritten,
      },
    };
  }

  #size(db: Database.Database): number {
    const pages = db.pragma("page_count", { simple: true }) as number;
    const size = db.pragma("page_size", { simple: true }) as number;
    return pages * size;
  }
}

export class D1PreparedStatement {
  readonly #db: D1Database;
  readonly #sql: string;
  readonly #params: D1Value[];

  constructor(db: D1Database, sql: string, params: D1Value[]) {
    this.#db = db;
    this.#sql = sql;
    this.#params = params;
  }

  /** @internal */
  get query(): { sql: string; params: D1Value[] } {
    return { sql: this.#sql, params: this.#params };
  }

  bind(...values: unknown[]): D1PreparedStatement {
    return new D1PreparedStatement(this.#db, this.#sql, values.map(bindable));
  }

  async first<T = Row>(colName?: string): Promise<T | null> {
    const row = toResult(this.#db.run([this.query], false)[0]!).results[0];
    if (!row) return null;
    if (colName === undefined) return row as T;
    if (row[colName] === undefined) {
      throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${colName})`, {
        cause: new Error("Column not found"),
      });
    }
    return row[colName] as T;
  }

  async all<T = Row>(): Promise<D1Result<T>> {
    return toResult(this.#db.run([this.query], false)[0]!) as D1Result<T>;
  }

  async run<T = Row>(): Promise<D1Result<T>> {
    return toResult(this.#db.run([this.query], false)[0]!) as D1Result<T>;
  }

  async raw<T = D1Value[]>(options?: { columnNames?: boolean }): Promise<T[]> {
    const answer = this.#db.run([this.query], false)[0]!;
    return [...(options?.columnNames ? [answer.columns] : []), ...answer.rows] as T[];
  }
}

export class D1DatabaseSession {
  readonly #db: D1Database;
  #bookmark: string | null = null;

  constructor(db: D1Database) {
    this.#db = db;
  }

  prepare(query: string): D1PreparedStatement {
    this.#bookmark = this.#current();
    return this.#db.prepare(query);
  }

  async batch<T = Row>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    const results = await this.#db.batch<T>(statements);
    this.#bookmark = this.#current();
    return results;
  }

  getBookmark(): string | null {
    return this.#bookmark;
  }

  #current(): string {
    const version = this.#db.db.pragma("data_version", { simple: true }) as number;
    return `terrarium-${String(version).padStart(12, "0")}`;
  }
}
