import Database from "better-sqlite3";
import { beforeEach, describe, expect, it } from "vitest";
import { splitStatements } from "../../../runtime/shared/sql-text.ts";
import { DurableObjectStorage } from "../../../runtime/host/storage.ts";

let db: Database.Database;
let storage: DurableObjectStorage;
let alarms: (number | null)[];

beforeEach(() => {
  db = new Database(":memory:");
  alarms = [];
  storage = new DurableObjectStorage(
    db,
    { initial: null, alarmChanged: (t) => alarms.push(t) },
    { deleteAllDeletesAlarm: true },
  );
});

describe("ctx.storage KV API", () => {
  it("stores structured-clone values", async () => {
    const value = {
      when: new Date(0),
      tags: new Set(["a"]),
      map: new Map([[1, { deep: [1, 2] }]]),
      big: 10n,
    };
    await storage.put("k", value);
    expect(await storage.get("k")).toEqual(value);
    expect(await storage.get("missing")).toBeUndefined();
  });

  it("gets, puts and deletes many keys", async () => {
    await storage.put({ a: 1, b: 2, c: 3 });
    expect(await storage.get(["c", "a", "zz"])).toEqual(
      new Map([
        ["a", 1],
        ["c", 3],
      ]),
    );
    expect(await storage.delete(["a", "b", "zz"])).toBe(2);
    expect(await storage.delete("c")).toBe(true);
    expect(await storage.delete("c")).toBe(false);
    await expect(storage.put("f", () => 1)).rejects.toMatchObject({ name: "DataCloneError" });
    await expect(storage.put("u", undefined)).rejects.toThrow("put() called with undefined value.");
  });

  it("lists with start, startAfter, end, prefix, reverse and limit", async () => {
    await storage.put({ "a:1": 1, "a:2": 2, "a:3": 3, "b:1": 4, c: 5 });
    const keys = async (o: object) => [...(await storage.list(o)).keys()];
    expect(await keys({})).toEqual(["a:1", "a:2", "a:3", "b:1", "c"]);
    expect(await keys({ prefix: "a:" })).toEqual(["a:1", "a:2", "a:3"]);
    expect(await keys({ start: "a:2", end: "b:1" })).toEqual(["a:2", "a:3"]);
    expect(await keys({ startAfter: "a:2" })).toEqual(["a:3", "b:1", "c"]);
    expect(await keys({ reverse: true, limit: 2 })).toEqual(["c", "b:1"]);
    expect(await keys({ prefix: "a:", reverse: true, limit: 1 })).toEqual(["a:3"]);
    await expect(storage.list({ start: "a", startAfter: "b" })).rejects.toThrow(TypeError);
  });

  it("offers the same data through the synchronous ctx.storage.kv", async () => {
    storage.kv.put("x", { y: 1 });
    expect(await storage.get("x")).toEqual({ y: 1 });
    expect([...storage.kv.list()]).toEqual([["x", { y: 1 }]]);
  });

  it("resolves without yielding to other macrotasks (input gate)", async () => {
    const order: string[] = [];
    setImmediate(() => order.push("other event"));
    await storage.put("n", 1);
    const n = (await storage.get("n")) as number;
    await storage.put("n", n + 1);
    order.push("done");
    expect(order).toEqual(["done"]);
  });
});

describe("transactions", () => {
  it("rolls back transactionSync on throw", () => {
    storage.kv.put("a", 1);
    expect(() =>
      storage.transactionSync(() => {
        storage.kv.put("a", 2);
        throw new Error("nope");
      }),
    ).toThrow("nope");
    expect(storage.kv.get("a")).toBe(1);
  });

  it("rolls back transaction() on throw and on rollback()", async () => {
    await storage.put("a", 1);
    await expect(
      storage.transaction(async (txn) => {
        await txn.put("a", 2);
        throw new Error("nope");
      }),
    ).rejects.toThrow("nope");
    expect(await storage.get("a")).toBe(1);
    await storage.transaction(async (txn) => {
      await txn.put("a", 3);
      txn.rollback();
    });
    expect(await storage.get("a")).toBe(1);
    await storage.transaction(async (txn) => txn.put("a", 4));
    expect(await storage.get("a")).toBe(4);
  });
});

describe("ctx.storage.sql", () => {
  it("gives a repeated SELECT * the columns a table has after ALTER TABLE", () => {
    const sql = storage.sql;
    sql.exec("CREATE TABLE wide (a INTEGER, b INTEGER)");
    sql.exec("INSERT INTO wide VALUES (1, 2)");
    expect(sql.exec("SELECT * FROM wide").toArray()).toEqual([{ a: 1, b: 2 }]);
    sql.exec("ALTER TABLE wide ADD COLUMN c INTEGER DEFAULT 3");
    const cur = sql.exec("SELECT * FROM wide");
    expect(cur.columnNames).toEqual(["a", "b", "c"]);
    expect(cur.toArray()).toEqual([{ a: 1, b: 2, c: 3 }]);
  });

  it("executes statements and exposes workerd's cursor", () => {
    const sql = storage.sql;
    sql.exec(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB); INSERT INTO t (name) VALUES ('seed')",
    );
    const ins = sql.exec(
      "INSERT INTO t (name, data) VALUES (?, ?), (?, ?)",
      "a",
      new Uint8Array([1, 2]),
      "b",
      null,
    );
    expect(ins.rowsWritten).toBe(2);
    const cur = sql.exec("SELECT id, name FROM t ORDER BY id");
    expect(cur.columnNames).toEqual(["id", "name"]);
    expect(cur.next()).toEqual({ done: false, value: { id: 1, name: "seed" } });
    expect([...cur.raw()]).toEqual([
      [2, "a"],
      [3, "b"],
    ]);
    expect(cur.rowsRead).toBe(3);
    const blob = sql.exec("SELECT data FROM t WHERE name = 'a'").one().data;
    expect(blob).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(blob as ArrayBuffer)]).toEqual([1, 2]);
    expect(() => sql.exec("SELECT * FROM t").one()).toThrow(/multiple results/);
    expect(() => sql.exec("SELECT * FROM t WHERE id = 99").one()).toThrow(/no results/);
    expect(() => sql.exec("SELECT * FROM nope")).toThrow("no such table: nope: SQLITE_ERROR");
    expect(() => sql.exec("INSERT INTO t (id) VALUES (1)")).toThrow(
      "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_PRIMARYKEY)",
    );
    expect(() => sql.exec("SELECT ?", 1, 2)).toThrow("Wrong number of parameter bindings for SQL query.");
    expect(sql.exec("SELECT ?2 AS b, ?1 AS a, ?1 AS c", "x", "y").one()).toEqual({ b: "y", a: "x", c: "x" });
    expect(() => sql.exec("BEGIN TRANSACTION")).toThrow(/state.storage.transaction/);
    expect(sql.exec("SELECT ? AS t", true).one()).toEqual({ t: "true" });
    expect(sql.databaseSize).toBeGreaterThan(0);
  });

  it("splits multi-statement strings on top-level semicolons only", () => {
    expect(splitStatements("SELECT ';'; SELECT 2; -- done")).toEqual(["SELECT ';'", "SELECT 2"]);
    expect(
      splitStatements("CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END; SELECT 3"),
    ).toEqual(["CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END", "SELECT 3"]);
  });

  it("deleteAll removes keys, tables and (from 2026-02-24) the alarm", async () => {
    storage.sql.exec("CREATE TABLE t (x)");
    await storage.put("k", 1);
    await storage.setAlarm(Date.now() + 1000);
    await storage.deleteAll();
    expect(await storage.list()).toEqual(new Map());
    expect(() => storage.sql.exec("SELECT * FROM t")).toThrow(/no such table/);
    expect(await storage.getAlarm()).toBeNull();
    expect(alarms.at(-1)).toBeNull();
  });
});
