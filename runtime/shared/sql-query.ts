import type Database from "better-sqlite3";

/** What a query from the Inspector (or the control API) returns. */
export interface QueryResult {
  columns: string[];
  rows: unknown[][];
  truncated: boolean;
  rowsWritten: number;
}

/** A SQLite value as JSON can carry it: BLOBs as `{ $blob: base64 }`, big integers as text. */
export function jsonSafe(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { $blob: v.toString("base64") };
  if (typeof v === "bigint") return v.toString();
  return v;
}

/**
 * Runs one statement from a person at a SQL box: rows as JSON-safe arrays,
 * at most `limit` of them; a statement that writes only with `allowWrites`,
 * else refused with `refusal`.
 */
export function runQuery(
  db: Database.Database,
  sql: string,
  params: readonly unknown[] = [],
  opts: { allowWrites?: boolean; limit?: number; refusal?: string } = {},
): QueryResult {
  const stmt = db.prepare(sql);
  if (!stmt.reader) {
    if (!opts.allowWrites) throw new Error(opts.refusal ?? "this statement writes; unlock writes to run it");
    const info = stmt.run(...params);
    return { columns: [], rows: [], truncated: false, rowsWritten: info.changes };
  }
  const limit = opts.limit ?? 1000;
  const columns = stmt.columns().map((c) => c.name);
  const rows: unknown[][] = [];
  let truncated = false;
  for (const row of stmt.raw(true).iterate(...params) as IterableIterator<unknown[]>) {
    if (rows.length >= limit) {
      truncated = true;
      break;
    }
    rows.push(row.map(jsonSafe));
  }
  return { columns, rows, truncated, rowsWritten: 0 };
}
