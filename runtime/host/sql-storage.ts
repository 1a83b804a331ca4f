import type Database from "better-sqlite3";
import { rewriteParams, scan, splitStatements, toSqlError } from "../shared/sql-text.ts";
import {
  analyze,
  countRowsCached,
  firstRowReads,
  scansSchema,
  type Observed,
  type StatementShape,
} from "./sql-counters.ts";

type SqlValue = string | number | ArrayBuffer | null;
type Row = Record<string, SqlValue>;

const TRANSACTION_MESSAGE =
  "To execute a transaction, please use the state.storage.transaction() or state.storage.transactionSync() APIs " +
  "instead of the SQL BEGIN TRANSACTION or SAVEPOINT statements. The JavaScript API is safer because it will " +
  "automatically roll back on exceptions, and because it interacts correctly with Durable Objects' automatic " +
  "atomic write coalescing.";

/** workerd's conversions of JavaScript values bound to SQL parameters. */
function toBindable(v: unknown): string | number | Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number" || typeof v === "string") return v;
  if (typeof v === "bigint") throw new TypeError("Cannot convert a BigInt value to a number");
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return String(v);
}

function fromSqlite(v: unknown): SqlValue {
  if (Buffer.isBuffer(v)) {
    const out = new ArrayBuffer(v.byteLength);
    new Uint8Array(out).set(v);
    return out;
  }
  if (typeof v === "bigint") return Number(v);
  return v as SqlValue;
}

interface Prepared {
  stmt: Database.Statement;
  /** The rewritten SQL (for EXPLAIN). */
  sql: string;
  /** Its bytecode's shape for the row counters (sql-counters.ts), read on its first run after a schema change. */
  shape?: { epoch: number; shape: StatementShape | null };
  /** Index into the caller's bindings for each `?` of the rewritten SQL. */
  order: number[];
  /** How many bindings the statement takes (the highest parameter number). */
  arity: number;
}

const FORBIDDEN_START = /^(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

/**
 * The cursor `ctx.storage.sql.exec` returns. Rows are read eagerly (so the
 * connection is free for the next statement, as better-sqlite3 requires),
 * then handed out in workerd's cursor shapes.
 */
export class SqlStorageCursor<T extends Row = Row> implements Iterable<T> {
  readonly columnNames: string[];
  #rows: SqlValue[][];
  #pos = 0;
  readonly #rowsRead: number;
  readonly #rowsWritten: number;
  readonly #firstRowReads: number | null;

  /**
   * `firstRowReads`: workerd's cursor steps the statement only as rows are
   * taken, so rowsRead grows with them; when the statement reads one row per
   * row it returns (sql-counters.ts, firstRowReads), this is what it had
   * read when its first row came, and each row taken adds one.
   */
  constructor(
    columnNames: string[],
    rows: SqlValue[][],
    rowsRead: number,
    rowsWritten: number,
    firstRowReads: number | null = null,
  ) {
    this.columnNames = columnNames;
    this.#rows = rows;
    this.#rowsRead = rowsRead;
    this.#rowsWritten = rowsWritten;
    this.#firstRowReads = firstRowReads;
  }

  get rowsRead(): number {
    if (this.#firstRowReads === null || this.#pos >= this.#rows.length) return this.#rowsRead;
    return Math.min(this.#firstRowReads + this.#pos, this.#rowsRead);
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

  /** The remaining rows as arrays of values, as an iterator with toArray() and columnNames. */
  raw<R extends SqlValue[] = SqlValue[]>(): IterableIterator<R> & { toArray(): R[]; columnNames: string[] } {
    const take = (): IteratorResult<R> => {
      const r = this.#rows[this.#pos];
      if (r === undefined) return { done: true, value: undefined };
      this.#pos++;
      return { done: false, value: r as R };
    };
    const it = {
      columnNames: this.columnNames,
      next: take,
      toArray: (): R[] => {
        const out: R[] = [];
        for (let r = take(); !r.done; r = take()) out.push(r.value);
        return out;
      },
      [Symbol.iterator]() {
        return it;
      },
    };
    return it as IterableIterator<R> & { toArray(): R[]; columnNames: string[] };
  }

  [Symbol.iterator](): Iterator<T> {
    return this;
  }
}

/** `ctx.storage.sql` over one object's better-sqlite3 connection. */
export class SqlStorage {
  readonly #db: Database.Database;
  readonly #cache = new Map<string, Prepared[]>();
  readonly #totalChanges: Database.Statement;
  /** Told the rows each statement read and wrote (as the cursor counts them), for the cost of a run. */
  readonly #onRows: ((read: number, written: number) => void) | null;
  /** Called before a statement that writes runs (it opens the implicit transaction, output-gate.ts). */
  readonly #beforeWrite: (() => void) | null;
  /** Bumped by every statement that changes the schema: the shapes read before are stale. */
  #epoch = 0;
  readonly #schemaVersion: Database.Statement;
  readonly #lastRowid: Database.Statement;
  #lastSchema = -1;
  readonly #counts = new Map<string, Database.Statement>();

  constructor(
    db: Database.Database,
    onRows: ((read: number, written: number) => void) | null = null,
    beforeWrite: (() => void) | null = null,
  ) {
    this.#db = db;
    this.#totalChanges = db.prepare("SELECT total_changes()").pluck();
    this.#onRows = onRows;
    this.#beforeWrite = beforeWrite;
    this.#schemaVersion = db.prepare("PRAGMA schema_version").pluck();
    this.#lastRowid = db.prepare("SELECT last_insert_rowid()").pluck();
  }

  /** Splits and checks a query; each statement is prepared only when it runs (it may use a table the previous one made). */
  #plan(query: string): { text: string; sql: string; order: number[]; arity: number }[] {
    const statements = splitStatements(query);
    if (statements.length === 0) throw new Error("SQL code did not contain a statement.");
    return statements.map((text, i) => {
      if (FORBIDDEN_START.test(text)) throw new Error(TRANSACTION_MESSAGE);
      const internal = scan(text).find((t) => t.kind === "word" && /^_cf_/i.test(t.text));
      if (internal) this.#refuseInternal(internal.text);
      const { sql, order, arity } = rewriteParams(text);
      if (i < statements.length - 1 && arity > 0) {
        throw new Error(
          "When executing multiple SQL statements in a single call, only the last statement can have parameters.",
        );
      }
      return { text, sql, order, arity };
    });
  }

  #prepare(sql: string, order: number[], arity: number, cache: string | null): Prepared {
    const cached = cache === null ? undefined : this.#cache.get(cache);
    if (cached) return cached[0]!;
    let stmt: Database.Statement;
    try {
      stmt = this.#db.prepare(sql);
    } catch (e) {
      throw toSqlError(e, sql);
    }
    // Rows come back as arrays (the cursor keeps column names apart).
    if (stmt.reader) stmt.raw(true);
    const p: Prepared = { stmt, sql, order, arity };
    if (cache !== null) {
      if (this.#cache.size > 500) this.#cache.clear();
      this.#cache.set(cache, [p]);
    }
    return p;
  }

  /** workerd's authorizer refuses user SQL on its internal tables. */
  #refuseInternal(name: string): never {
    const row = this.#db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE")
      .get(name) as { name: string } | undefined;
    if (!row) throw new Error(`no such table: ${name}: SQLITE_ERROR`);
    const first =
      (this.#db.prepare(`PRAGMA table_info("${row.name}")`).get() as { name: string } | undefined)?.name ??
      "key";
    throw new Error(`access to ${row.name}.${first} is prohibited: SQLITE_AUTH`);
  }

  exec<T extends Row = Row>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> {
    if (typeof query !== "string") throw new TypeError("exec() requires a SQL string.");
    const cached = this.#cache.get(query);
    if (cached) return this.#bindAndRun<T>(cached[0]!, bindings);
    const plan = this.#plan(query);
    const last = plan[plan.length - 1]!;
    if (bindings.length !== last.arity) throw new Error("Wrong number of parameter bindings for SQL query.");
    for (const s of plan.slice(0, -1)) this.#run(this.#prepare(s.sql, s.order, s.arity, null), []);
    return this.#bindAndRun<T>(
      this.#prepare(last.sql, last.order, last.arity, plan.length === 1 ? query : null),
      bindings,
    );
  }

  #bindAndRun<T extends Row>(p: Prepared, bindings: unknown[]): SqlStorageCursor<T> {
    if (bindings.length !== p.arity) throw new Error("Wrong number of parameter bindings for SQL query.");
    const values = bindings.map(toBindable);
    return this.#run<T>(
      p,
      p.order.map((i) => values[i] ?? null),
    );
  }

  #run<T extends Row>(p: Prepared, params: unknown[]): SqlStorageCursor<T> {
    const stmt = p.stmt;
    if (!stmt.readonly) this.#beforeWrite?.();
    // Read before it runs: DDL cannot be explained once it has run (the table exists).
    const shape = this.#shapeOf(p);
    // An upsert that changed a row without a new rowid took its DO UPDATE path.
    const rowidBefore = shape?.upsert ? (this.#lastRowid.get() as number) : 0;
    const updated = (changes: number) =>
      shape?.upsert === true && changes > 0 && (this.#lastRowid.get() as number) === rowidBefore;
    const schemaRows = shape && scansSchema(shape) ? this.#tableRows("sqlite_schema") : undefined;
    try {
      if (stmt.reader) {
        // A write with RETURNING counts the rows it changed from total_changes().
        const writes = !stmt.readonly;
        const before = writes ? (this.#totalChanges.get() as number) : 0;
        const rows = (stmt.all(...params) as unknown[][]).map((r) => r.map(fromSqlite));
        // After running: a cached statement is prepared again when the schema
        // changed (SELECT * after ALTER TABLE ADD COLUMN), and only then are
        // its columns the ones its rows have.
        const columns = stmt.columns().map((c) => c.name);
        const changes = writes ? (this.#totalChanges.get() as number) - before : 0;
        const { read, written } = this.#count(shape, {
          rows: rows.length,
          changes,
          updated: updated(changes),
          reader: true,
          ddl: false,
          schemaRows,
        });
        this.#onRows?.(read, written);
        const first = shape ? firstRowReads(shape, read, rows.length) : null;
        return new SqlStorageCursor<T>(columns, rows, read, written, first);
      }
      const info = stmt.run(...params);
      const { read, written } = this.#count(shape, {
        rows: 0,
        changes: info.changes,
        updated: updated(info.changes),
        ddl: shape !== null && !shape.dml,
        schemaRows,
      });
      this.#onRows?.(read, written);
      return new SqlStorageCursor<T>([], [], read, written);
    } catch (e) {
      throw toSqlError(e);
    }
  }

  /** rowsRead / rowsWritten of the run that just ended (sql-counters.ts). */
  #shapeOf(p: Prepared): StatementShape | null {
    if (!p.shape || p.shape.epoch !== this.#epoch)
      p.shape = { epoch: this.#epoch, shape: analyze(this.#db, p.sql, p.order.length) };
    return p.shape.shape;
  }

  #count(
    shape: StatementShape | null,
    seen: Observed & { ddl: boolean; schemaRows: number | undefined },
  ): { read: number; written: number } {
    if (!shape) return { read: seen.rows, written: seen.changes };
    // A statement that writes but changes no rows may have changed the schema
    // (CREATE, DROP, ALTER): then every statement's bytecode is read again.
    if (seen.ddl) {
      const version = this.#schemaVersion.get() as number;
      if (version !== this.#lastSchema) {
        this.#lastSchema = version;
        this.#epoch++;
        this.#counts.clear();
      }
    }
    return countRowsCached(shape, seen, (table) =>
      table === "sqlite_schema" && seen.schemaRows !== undefined ? seen.schemaRows : this.#tableRows(table),
    );
  }

  /** A table's rows now (the size of a table a statement scanned in full); 0 once it is gone. */
  #tableRows(table: string): number {
    try {
      let stmt = this.#counts.get(table);
      if (!stmt) {
        stmt = this.#db.prepare(`SELECT count(*) FROM "${table.replaceAll('"', '""')}"`).pluck();
        this.#counts.set(table, stmt);
      }
      return stmt.get() as number;
    } catch {
      this.#counts.delete(table);
      return 0;
    }
  }

  /** Drops cached statements (after deleteAll dropped their tables). */
  reset(): void {
    this.#cache.clear();
    this.#counts.clear();
    this.#epoch++;
  }

  get databaseSize(): number {
    const pages = this.#db.pragma("page_count", { simple: true }) as number;
    const size = this.#db.pragma("page_size", { simple: true }) as number;
    return pages * size;
  }
}
