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
 * Past this many bytes of values a result is cut short (truncated), whatever
 * its row limit: 10,000 rows of 1 MB blobs would otherwise hold the main
 * thread for minutes and its memory for gigabytes.
 */
export const MAX_RESULT_BYTES = 16 * 1024 * 1024;

function valueBytes(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (Buffer.isBuffer(v)) return v.byteLength;
  return 8;
}

/**
 * Runs one statement from a person at a SQL box: rows as JSON-safe arrays,
 * at most `limit` of them and about MAX_RESULT_BYTES of values; a statement
 * that writes only with `allowWrites`, else refused with `refusal`.
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
  let bytes = 0;
  for (const row of stmt.raw(true).iterate(...params) as IterableIterator<unknown[]>) {
    if (rows.length >= limit || bytes > MAX_RESULT_BYTES) {
      truncated = true;
      break;
    }
    for (const v of row) bytes += valueBytes(v);
    rows.push(row.map(jsonSafe));
  }
  return { columns, rows, truncated, rowsWritten: 0 };
}
