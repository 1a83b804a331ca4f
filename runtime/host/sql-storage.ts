import type Database from "better-sqlite3";

type SqlValue = string | number | bigint | ArrayBuffer | null;
type Row = Record<string, SqlValue>;

function toBindable(v: unknown): unknown {
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (v === undefined) return null;
  return v;
}

function fromSqlite(v: unknown): SqlValue {
  if (Buffer.isBuffer(v)) {
    const out = new ArrayBuffer(v.byteLength);
    new Uint8Array(out).set(v);
    return out;
  }
  return v as SqlValue;
}

/** Splits a multi-statement SQL string on top-level semicolons. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  let depthBeginEnd = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === "`") {
      const q = c;
      i++;
      while (i < n) {
        if (sql[i] === q) {
          if (sql[i + 1] === q) i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (c === "[") {
      while (i < n && sql[i] !== "]") i++;
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_]/.test(sql[j]!)) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (word === "BEGIN" && /\bTRIGGER\b/i.test(sql.slice(start, i))) depthBeginEnd++;
      else if (word === "END" && depthBeginEnd > 0) depthBeginEnd--;
      i = j;
    } else if (c === ";" && depthBeginEnd === 0) {
      const stmt = sql.slice(start, i).trim();
      if (stmt) out.push(stmt);
      start = i + 1;
      i++;
    } else i++;
  }
  const tail = sql.slice(start).trim();
  if (tail && !/^(--[^\n]*\n?|\/\*[\s\S]*?\*\/|\s)*$/.test(tail)) out.push(tail);
  return out;
}

/**
 * The cursor `ctx.storage.sql.exec` returns. Rows are read eagerly (so the
 * connection is free for the next statement, as better-sqlite3 requires),
 * then handed out in workerd's cursor shapes.
 */
export class SqlStorageCursor<T extends Row = Row> implements Iterable<T> {
  readonly columnNames: string[];
  #rows: SqlValue[][];
  #pos = 0;
  #rowsRead: number;
  readonly #rowsWritten: number;

  constructor(columnNames: string[], rows: SqlValue[][], rowsRead: number, rowsWritten: number) {
    this.columnNames = columnNames;
    this.#rows = rows;
    this.#rowsRead = rowsRead;
    this.#rowsWritten = rowsWritten;
  }

  get rowsRead(): number {
    return this.#rowsRead;
  }

  get rowsWritten(): number {
    return this.#rowsWritten;
  }

  #object(raw: SqlValue[]): T {
    const o: Row = {};
    this.columnNames.forEach((c, i) => {
      o[c] = raw[i] ?? null;
    });
    return o as T;
  }

  next(): IteratorResult<T> {
    const raw = this.#rows[this.#pos];
    if (raw === undefined) return { done: true, value: undefined };
    this.#pos++;
    return { done: false, value: this.#object(raw) };
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let r = this.next(); !r.done; r = this.next()) out.push(r.value);
    return out;
  }

  one(): T {
    const rest = this.#rows.length - this.#pos;
    if (rest === 0) throw new Error("Expected exactly one result from SQL query, but got no results.");
    if (rest > 1) throw new Error("Expected exactly one result from SQL query, but got multiple results.");
    return this.next().value as T;
  }

  *raw<R extends SqlValue[] = SqlValue[]>(): IterableIterator<R> {
    while (this.#pos < this.#rows.length) {
      yield this.#rows[this.#pos++] as R;
    }
  }

  [Symbol.iterator](): Iterator<T> {
    return this;
  }
}

/** `ctx.storage.sql` over one object's better-sqlite3 connection. */
export class SqlStorage {
  readonly #db: Database.Database;
  readonly #cache = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  #prepare(sql: string): Database.Statement {
    let stmt = this.#cache.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      if (this.#cache.size > 200) this.#cache.clear();
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }

  exec<T extends Row = Row>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> {
    const params = bindings.map(toBindable);
    let stmt: Database.Statement;
    try {
      stmt = this.#prepare(query);
    } catch (e) {
      if (!(e instanceof RangeError) || !/more than one statement/.test(e.message)) throw toSqlError(e);
      const parts = splitStatements(query);
      const last = parts.pop();
      if (last === undefined) return new SqlStorageCursor<T>([], [], 0, 0);
      for (const p of parts) this.#run(this.#db.prepare(p), []);
      return this.exec<T>(last, ...bindings);
    }
    return this.#run<T>(stmt, params);
  }

  #run<T extends Row>(stmt: Database.Statement, params: unknown[]): SqlStorageCursor<T> {
    try {
      if (stmt.reader) {
        const columns = stmt.columns().map((c) => c.name);
        const rows = (stmt.raw(true).all(...params) as unknown[][]).map((r) => r.map(fromSqlite));
        stmt.raw(false);
        return new SqlStorageCursor<T>(columns, rows, rows.length, 0);
      }
      const info = stmt.run(...params);
      return new SqlStorageCursor<T>([], [], 0, info.changes);
    } catch (e) {
      throw toSqlError(e);
    }
  }

  get databaseSize(): number {
    const pages = this.#db.pragma("page_count", { simple: true }) as number;
    const size = this.#db.pragma("page_size", { simple: true }) as number;
    return pages * size;
  }
}

/** SQLite's message reaches the caller, with workerd's prefix. */
function toSqlError(e: unknown): Error {
  if (e instanceof Error && e.name === "SqliteError") {
    const err = new Error(`${e.message}: SQLITE_ERROR`);
    return err;
  }
  return e instanceof Error ? e : new Error(String(e));
}
