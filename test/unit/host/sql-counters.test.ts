import Database from "better-sqlite3";
import { beforeEach, describe, expect, it } from "vitest";
import { SqlStorage } from "../../../runtime/host/sql-storage.ts";

/**
 * cursor.rowsRead / rowsWritten (runtime/host/sql-counters.ts), by the rules
 * of workerd's SQLite patch: each row a cursor lands on is read, each row or
 * index entry stored or removed is written. The fidelity projects
 * sql-counters and sql-counters-broad check the same shapes against workerd.
 */
let sql: SqlStorage;

const counts = (query: string, ...bindings: unknown[]) => {
  const cursor = sql.exec(query, ...bindings);
  const rows = cursor.toArray().length;
  return { rows, read: cursor.rowsRead, written: cursor.rowsWritten };
};

beforeEach(() => {
  sql = new SqlStorage(new Database(":memory:"));
  sql.exec("CREATE TABLE plain (id INTEGER PRIMARY KEY, v TEXT)");
  sql.exec("CREATE TABLE indexed (id INTEGER PRIMARY KEY, k TEXT UNIQUE, n INTEGER)");
  sql.exec("CREATE INDEX indexed_n ON indexed (n)");
  sql.exec("INSERT INTO plain (v) VALUES ('a'), ('b'), ('c'), ('d'), ('e'), ('f')");
  sql.exec("INSERT INTO indexed (k, n) VALUES ('x', 1), ('y', 2), ('z', 3), ('w', 2)");
});

describe("rows read and written, as workerd counts them", () => {
  it("counts DDL's writes to sqlite_schema and the rows an index is built from", () => {
    expect(counts("CREATE TABLE more (id INTEGER PRIMARY KEY)")).toMatchObject({ read: 1, written: 2 });
    // The table scanned into a sorter (6 + 6 reads), the sorted entries written to the index.
    expect(counts("CREATE INDEX plain_v ON plain (v)")).toMatchObject({ read: 12, written: 7 });
  });

  it("counts every row a scan visits, one per key lookup, and the row past a bounded range", () => {
    expect(counts("SELECT * FROM plain")).toEqual({ rows: 6, read: 6, written: 0 });
    expect(counts("SELECT * FROM plain WHERE v > 'b'")).toEqual({ rows: 4, read: 6, written: 0 });
    expect(counts("SELECT * FROM plain WHERE id = ?", 999)).toEqual({ rows: 0, read: 1, written: 0 });
    expect(counts("SELECT * FROM plain WHERE id BETWEEN 2 AND 4")).toEqual({ rows: 3, read: 4, written: 0 });
    expect(counts("SELECT * FROM plain WHERE id > 4")).toEqual({ rows: 2, read: 2, written: 0 });
    expect(counts("SELECT * FROM indexed WHERE n = 2")).toEqual({ rows: 2, read: 3, written: 0 });
    // An equality seek on an index that finds nothing reads nothing.
    expect(counts("SELECT * FROM indexed WHERE k = 'nope'")).toEqual({ rows: 0, read: 0, written: 0 });
    expect(counts("SELECT count(*) FROM plain")).toEqual({ rows: 1, read: 6, written: 0 });
    expect(counts("SELECT * FROM plain LIMIT 2 OFFSET 1")).toEqual({ rows: 2, read: 3, written: 0 });
  });

  it("counts index entries among the rows written", () => {
    expect(counts("INSERT INTO indexed (k, n) VALUES ('v', 9)")).toMatchObject({ read: 0, written: 3 });
    expect(counts("UPDATE indexed SET n = n + 10 WHERE n = 2")).toMatchObject({ read: 7, written: 4 });
    expect(counts("DELETE FROM indexed WHERE k = 'y'")).toMatchObject({ read: 1, written: 1 });
    expect(
      counts("INSERT INTO indexed (k, n) VALUES ('x', 5) ON CONFLICT (k) DO UPDATE SET n = excluded.n"),
    ).toMatchObject({ read: 1, written: 2 });
    expect(counts("DELETE FROM plain")).toMatchObject({ read: 0, written: 6 });
  });

  it("grows rowsRead as rows are taken from a cursor over a plain scan", () => {
    const cursor = sql.exec("SELECT * FROM plain ORDER BY id");
    expect(cursor.rowsRead).toBe(1);
    cursor.next();
    expect(cursor.rowsRead).toBe(2);
    cursor.toArray();
    expect(cursor.rowsRead).toBe(6);
  });

  it("counts a repeated statement the same on every run, remembered or not", () => {
    // The upsert's two paths (insert, then DO UPDATE) and a scan whose count follows the table's size.
    const upsert =
      "INSERT INTO indexed (k, n) VALUES (?, 1) ON CONFLICT (k) DO UPDATE SET n = n + 1 RETURNING n";
    const first = counts(upsert, "fresh");
    const again = counts(upsert, "fresh");
    expect(counts(upsert, "newer")).toEqual(first);
    expect(counts(upsert, "newer")).toEqual(again);
    expect(first).not.toEqual(again);
    expect(counts("SELECT count(*) FROM plain")).toMatchObject({ read: 6 });
    sql.exec("INSERT INTO plain (v) VALUES ('g')");
    expect(counts("SELECT count(*) FROM plain")).toMatchObject({ read: 7 });
    expect(counts("SELECT * FROM plain WHERE v = 'a'")).toEqual({ rows: 1, read: 7, written: 0 });
    sql.exec("DELETE FROM plain WHERE v = 'g'");
    expect(counts("SELECT * FROM plain WHERE v = 'a'")).toEqual({ rows: 1, read: 6, written: 0 });
  });
});
