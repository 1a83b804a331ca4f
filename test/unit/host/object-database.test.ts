import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openObjectDatabase, TEMPLATE_NAME } from "../../../runtime/host/object-database.ts";

/**
 * An object's database file: a new one starts as a copy of an empty WAL
 * database made once per folder (no fsyncs on a cold start), and a bad
 * template never costs an object its start.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "terrarium-objdb-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("openObjectDatabase", () => {
  it("creates a new object's file from the folder's template, in WAL mode and empty", () => {
    const path = join(dir, "Counter", "a.sqlite");
    const db = openObjectDatabase(path);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("synchronous", { simple: true })).toBe(1);
    expect(db.prepare("SELECT count(*) FROM sqlite_master").pluck().get()).toBe(0);
    db.exec("CREATE TABLE t (v INTEGER)");
    db.prepare("INSERT INTO t VALUES (?)").run(7);
    db.close();
    expect(existsSync(join(dir, "Counter", TEMPLATE_NAME))).toBe(true);
    // Nothing but the template and the object's own file are left beside it.
    expect(readdirSync(join(dir, "Counter")).sort()).toEqual([TEMPLATE_NAME, "a.sqlite"].sort());

    // A second object gets an empty file of its own; the first keeps its row.
    const other = openObjectDatabase(join(dir, "Counter", "b.sqlite"));
    expect(other.prepare("SELECT count(*) FROM sqlite_master").pluck().get()).toBe(0);
    other.close();
    const again = openObjectDatabase(path);
    expect(again.prepare("SELECT v FROM t").pluck().all()).toEqual([7]);
    again.close();
  });

  it("starts an object afresh when the template is not a database, and makes a new template", () => {
    mkdirSync(join(dir, "Counter"), { recursive: true });
    writeFileSync(
      join(dir, "Counter", TEMPLATE_NAME),
      "this is not a database, but 4096 bytes long".repeat(100),
    );
    const db = openObjectDatabase(join(dir, "Counter", "c.sqlite"));
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.exec("CREATE TABLE t (v INTEGER)");
    db.close();
    expect(existsSync(join(dir, "Counter", TEMPLATE_NAME))).toBe(false);
    const next = openObjectDatabase(join(dir, "Counter", "d.sqlite"));
    expect(next.pragma("journal_mode", { simple: true })).toBe("wal");
    next.close();
    expect(existsSync(join(dir, "Counter", TEMPLATE_NAME))).toBe(true);
  });

  it("opens an in-memory database for the warm-up object without touching a folder", () => {
    const db = openObjectDatabase(":memory:");
    expect(db.pragma("journal_mode", { simple: true })).toBe("memory");
    db.close();
  });
});
