import { existsSync } from "node:fs";
import { inspect } from "node:util";
import { deserialize } from "node:v8";
import type Database from "better-sqlite3";
import { openSqlite } from "../shared/sqlite-native.ts";
import { jsonSafe } from "../shared/sql-query.ts";

/** Rows listed per table and kind (added, changed, removed); the counts are always whole. */
export const DIFF_ROWS_SHOWN = 50;

export interface TableDiff {
  table: string;
  /** The columns rows are matched on: the primary key, or SQLite's rowid. */
  key: string[];
  /** The table exists only on one side. */
  status: "added" | "removed" | "both";
  /** Column lists differ (rows are compared on the columns both sides have). */
  schemaChanged: boolean;
  counts: { added: number; changed: number; removed: number; before: number; after: number };
  /** Up to DIFF_ROWS_SHOWN rows of each kind, as JSON-safe values. */
  added: Record<string, unknown>[];
  removed: Record<string, unknown>[];
  changed: {
    key: Record<string, unknown>;
    before: Record<string, unknown>;
    after: Record<string, unknown>;
  }[];
}

export interface KvDiff {
  counts: { added: number; changed: number; removed: number; before: number; after: number };
  /** Up to DIFF_ROWS_SHOWN keys of each kind, with their values rendered as text. */
  added: { key: string; value: string }[];
  removed: { key: string; value: string }[];
  changed: { key: string; before: string; after: string }[];
}

/** What changed between two copies of one object's storage, from `before` to `after`. */
export interface StorageDiff {
  tables: TableDiff[];
  kv: KvDiff;
  /** True when nothing differs. */
  same: boolean;
}

const KV_TABLE = "_cf_KV";

const q = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The object's own tables: not SQLite's, not Terrarium's or Cloudflare's bookkeeping (_cf_*). */
function userTables(db: Database.Database, schema: string): Map<string, { cols: string[]; pk: string[] }> {
  const rows = db
    .prepare(
      `SELECT name FROM ${schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name`,
    )
    .all() as { name: string }[];
  const out = new Map<string, { cols: string[]; pk: string[] }>();
  for (const { name } of rows) {
    // NOTE: the schema is pragma_table_info's second argument; `a.pragma_table_info(...)` reads main.
    const info = db.prepare("SELECT name, pk FROM pragma_table_info(?, ?)").all(name, schema) as {
      name: string;
      pk: number;
    }[];
    const pk = info
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    out.set(name, { cols: info.map((c) => c.name), pk });
  }
  return out;
}

function hasRowid(db: Database.Database, schema: string, table: string): boolean {
  try {
    db.prepare(`SELECT rowid FROM ${schema}.${q(table)} LIMIT 0`).all();
    return true;
  } catch {
    return false;
  }
}

function rows(db: Database.Database, sql: string): Record<string, unknown>[] {
  return (db.prepare(sql).all() as Record<string, unknown>[]).map(
    (r) => jsonSafe(r) as Record<string, unknown>,
  );
}

function count(db: Database.Database, sql: string): number {
  return (db.prepare(sql).pluck().get() as number) ?? 0;
}

function tableDiff(
  db: Database.Database,
  table: string,
  a: { cols: string[]; pk: string[] } | undefined,
  b: { cols: string[]; pk: string[] } | undefined,
): TableDiff {
  const empty = { added: [], removed: [], changed: [] };
  if (!a || !b) {
    const side = a ? "a" : "b";
    const all = count(db, `SELECT count(*) FROM ${side}.${q(table)}`);
    const list = rows(db, `SELECT * FROM ${side}.${q(table)} LIMIT ${DIFF_ROWS_SHOWN}`);
    return {
      table,
      key: (a ?? b)!.pk,
      status: a ? "removed" : "added",
      schemaChanged: false,
      counts: {
        added: a ? 0 : all,
        removed: a ? all : 0,
        changed: 0,
        before: a ? all : 0,
        after: a ? 0 : all,
      },
      ...empty,
      ...(a ? { removed: list } : { added: list }),
    };
  }
  const common = a.cols.filter((c) => b.cols.includes(c));
  const samePk = a.pk.length > 0 && a.pk.join("\0") === b.pk.join("\0");
  const useRowid = !samePk && hasRowid(db, "a", table) && hasRowid(db, "b", table);
  const key = samePk ? a.pk : useRowid ? ["rowid"] : common;
  const on = key.map((k) => `x.${q(k)} IS y.${q(k)}`).join(" AND ");
  const keySel = (t: string): string => key.map((k) => `${t}.${q(k)} AS ${q(k)}`).join(", ");
  const differs = common
    .filter((c) => !key.includes(c))
    .map((c) => `x.${q(c)} IS NOT y.${q(c)}`)
    .join(" OR ");
  const A = `a.${q(table)}`;
  const B = `b.${q(table)}`;
  const rowSel = useRowid ? "rowid AS rowid, *" : "*";
  const missing = (from: string, other: string): string =>
    `FROM ${from} x WHERE NOT EXISTS (SELECT 1 FROM ${other} y WHERE ${on})`;
  const changedFrom = differs ? `FROM ${A} x JOIN ${B} y ON ${on} WHERE ${differs}` : null;
  const counts = {
    added: count(db, `SELECT count(*) ${missing(B, A)}`),
    removed: count(db, `SELECT count(*) ${missing(A, B)}`),
    changed: changedFrom ? count(db, `SELECT count(*) ${changedFrom}`) : 0,
    before: count(db, `SELECT count(*) FROM ${A}`),
    after: count(db, `SELECT count(*) FROM ${B}`),
  };
  const pick = (from: string, other: string): Record<string, unknown>[] =>
    rows(
      db,
      `SELECT ${useRowid ? "x.rowid AS rowid, x.*" : "x.*"} ${missing(from, other)} LIMIT ${DIFF_ROWS_SHOWN}`,
    );
  const changed: TableDiff["changed"] = [];
  if (changedFrom && counts.changed > 0) {
    const keys = rows(db, `SELECT ${keySel("x")} ${changedFrom} LIMIT ${DIFF_ROWS_SHOWN}`);
    const where = key.map((k) => `${q(k)} IS ?`).join(" AND ");
    for (const k of keys) {
      const params = key.map((c) => k[c] as unknown);
      const get = (t: string): Record<string, unknown> =>
        jsonSafe(db.prepare(`SELECT ${rowSel} FROM ${t} WHERE ${where}`).get(...params)) as Record<
          string,
          unknown
        >;
      changed.push({ key: k, before: get(A), after: get(B) });
    }
  }
  return {
    table,
    key,
    status: "both",
    schemaChanged: a.cols.join("\0") !== b.cols.join("\0"),
    counts,
    added: counts.added > 0 ? pick(B, A) : [],
    removed: counts.removed > 0 ? pick(A, B) : [],
    changed,
  };
}

function render(value: Buffer): string {
  try {
    return inspect(deserialize(value), { depth: 4, breakLength: Infinity });
  } catch {
    return `<${value.byteLength} bytes that do not deserialize>`;
  }
}

function kvDiff(db: Database.Database, hasA: boolean, hasB: boolean): KvDiff {
  const side = (s: string, has: boolean): string =>
    has ? `${s}.${KV_TABLE}` : "(SELECT NULL AS key, NULL AS value WHERE 0)";
  const A = side("a", hasA);
  const B = side("b", hasB);
  const c = (sql: string): number => count(db, sql);
  const counts = {
    added: c(`SELECT count(*) FROM ${B} y WHERE NOT EXISTS (SELECT 1 FROM ${A} x WHERE x.key = y.key)`),
    removed: c(`SELECT count(*) FROM ${A} x WHERE NOT EXISTS (SELECT 1 FROM ${B} y WHERE x.key = y.key)`),
    changed: c(`SELECT count(*) FROM ${A} x JOIN ${B} y ON x.key = y.key WHERE x.value IS NOT y.value`),
    before: c(`SELECT count(*) FROM ${A}`),
    after: c(`SELECT count(*) FROM ${B}`),
  };
  const list = (sql: string): { key: string; value: Buffer }[] =>
    db.prepare(`${sql} ORDER BY key LIMIT ${DIFF_ROWS_SHOWN}`).all() as { key: string; value: Buffer }[];
  return {
    counts,
    added: list(
      `SELECT y.key AS key, y.value AS value FROM ${B} y WHERE NOT EXISTS (SELECT 1 FROM ${A} x WHERE x.key = y.key)`,
    ).map((r) => ({ key: r.key, value: render(r.value) })),
    removed: list(
      `SELECT x.key AS key, x.value AS value FROM ${A} x WHERE NOT EXISTS (SELECT 1 FROM ${B} y WHERE x.key = y.key)`,
    ).map((r) => ({ key: r.key, value: render(r.value) })),
    changed: (
      db
        .prepare(
          `SELECT x.key AS key, x.value AS a, y.value AS b FROM ${A} x JOIN ${B} y ON x.key = y.key WHERE x.value IS NOT y.value ORDER BY x.key LIMIT ${DIFF_ROWS_SHOWN}`,
        )
        .all() as { key: string; a: Buffer; b: Buffer }[]
    ).map((r) => ({ key: r.key, before: render(r.a), after: render(r.b) })),
  };
}

/**
 * Compares two SQLite files of one object (snapshots, or a snapshot and a
 * copy of it now): per table, rows added, changed and removed, matched on
 * the primary key (or the rowid); and the `ctx.storage` KV keys. Both files
 * are opened read-only.
 */
export function diffStorage(beforePath: string, afterPath: string): StorageDiff {
  const db = openSqlite(":memory:");
  try {
    for (const [path, as] of [
      [beforePath, "a"],
      [afterPath, "b"],
    ] as const) {
      // NOTE: this build of SQLite takes no URI file names, so read-only is this function's promise.
      if (!existsSync(path)) throw new Error(`no such database: ${path}`);
      db.prepare(`ATTACH DATABASE ? AS ${as}`).run(path);
    }
    db.pragma("query_only = ON");
    const ta = userTables(db, "a");
    const tb = userTables(db, "b");
    const names = [...new Set([...ta.keys(), ...tb.keys()])].sort();
    const tables = names.map((n) => tableDiff(db, n, ta.get(n), tb.get(n)));
    const hasKv = (s: string): boolean =>
      db.prepare(`SELECT 1 FROM ${s}.sqlite_master WHERE type = 'table' AND name = ?`).get(KV_TABLE) !==
      undefined;
    const kv = kvDiff(db, hasKv("a"), hasKv("b"));
    const changed = (c: { added: number; changed: number; removed: number }): boolean =>
      c.added + c.changed + c.removed > 0;
    const same =
      !changed(kv.counts) &&
      tables.every((t) => t.status === "both" && !t.schemaChanged && !changed(t.counts));
    return { tables, kv, same };
  } finally {
    db.close();
  }
}
