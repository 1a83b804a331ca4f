import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { serialize } from "node:v8";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  ALARM_FIRST_RETRY_MS,
  ALARM_MAX_RETRIES,
  StateManager,
  type AlarmRecord,
} from "../../../runtime/state/state-manager.ts";
import { FakeClock } from "../../../runtime/shared/clock.ts";

// The State Manager on its own: real SQLite files in a temporary data
// folder, a FakeClock for the alarm schedule, and a fire function of the
// test's own in place of the engine's (which wakes the object).

const ID = "a".repeat(64);
const OTHER = "b".repeat(64);

const dirs: string[] = [];
const managers: StateManager[] = [];
afterEach(() => {
  for (const sm of managers.splice(0)) sm.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function manager(clock = new FakeClock()): { sm: StateManager; dir: string; clock: FakeClock } {
  const dir = mkdtempSync(join(tmpdir(), "terrarium-state-"));
  dirs.push(dir);
  const sm = new StateManager(dir, clock);
  managers.push(sm);
  return { sm, dir, clock };
}

/** An object's database as its worker leaves it: a table of rows, and `_cf_KV` when it used the KV API. */
function writeObject(
  sm: StateManager,
  className: string,
  id: string,
  kv: Record<string, unknown> = {},
): string {
  const path = sm.dbPath(className, id);
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)");
    db.prepare("INSERT INTO items (name) VALUES (?), (?), (?)").run("one", "two", "three");
    if (Object.keys(kv).length > 0) {
      db.exec("CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB)");
      const put = db.prepare("INSERT INTO _cf_KV (key, value) VALUES (?, ?)");
      for (const [k, v] of Object.entries(kv)) put.run(k, serialize(v));
    }
  } finally {
    db.close();
  }
  return path;
}

describe("the State Manager's object files", () => {
  it("keeps each object's database at objects/<Class>/<id>.sqlite and counts its bytes", () => {
    const { sm, dir } = manager();
    expect(sm.dbPath("Counter", ID)).toBe(join(dir, "objects", "Counter", `${ID}.sqlite`));
    expect(sm.storageBytes("Counter", ID)).toBe(0);
    writeObject(sm, "Counter", ID);
    expect(sm.storageBytes("Counter", ID)).toBeGreaterThan(0);
  });

  it("runs a read on an object's database, refuses a write unless asked, and caps the rows", () => {
    const { sm } = manager();
    writeObject(sm, "Counter", ID);
    expect(sm.query("Counter", ID, "SELECT name FROM items WHERE id = ?", [2])).toEqual({
      columns: ["name"],
      rows: [["two"]],
      truncated: false,
      rowsWritten: 0,
    });
    expect(() => sm.query("Counter", ID, "DELETE FROM items")).toThrow(/writes/);
    expect(sm.query("Counter", ID, "SELECT count(*) AS n FROM items").rows).toEqual([[3]]);
    expect(
      sm.query("Counter", ID, "DELETE FROM items WHERE id = 1", [], { allowWrites: true }).rowsWritten,
    ).toBe(1);
    const capped = sm.query("Counter", ID, "SELECT id FROM items ORDER BY id", [], { limit: 1 });
    expect(capped.rows).toEqual([[2]]);
    expect(capped.truncated).toBe(true);
  });

  it("says an object has no storage yet rather than creating an empty file", async () => {
    const { sm } = manager();
    expect(() => sm.query("Counter", ID, "SELECT 1")).toThrow(/has no storage yet/);
    expect(() => sm.listKv("Counter", ID)).toThrow(/has no storage yet/);
    await expect(sm.readQuery("Counter", ID, "SELECT 1")).rejects.toThrow(/has no storage yet/);
    expect(existsSync(sm.dbPath("Counter", ID))).toBe(false);
  });

  it("runs the Inspector's reads in a process of their own, read-only", async () => {
    const { sm } = manager();
    writeObject(sm, "Counter", ID);
    const r = await sm.readQuery("Counter", ID, "SELECT name FROM items ORDER BY id", [], { limit: 2 });
    expect(r.rows).toEqual([["one"], ["two"]]);
    expect(r.truncated).toBe(true);
    await expect(sm.readQuery("Counter", ID, "DELETE FROM items")).rejects.toThrow();
    expect(sm.query("Counter", ID, "SELECT count(*) FROM items").rows).toEqual([[3]]);
  });

  it("lists KV entries in key order with a prefix, a start and a limit, previewing each value", () => {
    const { sm } = manager();
    writeObject(sm, "Counter", ID, {
      "user:1": { name: "Ada", tags: new Set(["a"]) },
      "user:2": "a long string ".repeat(10),
      "user:3": 3,
      zeta: [1, 2],
    });
    const all = sm.listKv("Counter", ID);
    expect(all.map((e) => e.key)).toEqual(["user:1", "user:2", "user:3", "zeta"]);
    expect(all[0]!.preview).toBe("{ name: 'Ada', tags: Set(1) { 'a' } }");
    // One line, as stored: not split into a concatenation of pieces.
    expect(all[1]!.preview).toBe(`'${"a long string ".repeat(10)}'`);
    expect(all[2]!.bytes).toBe(serialize(3).byteLength);
    expect(sm.listKv("Counter", ID, { prefix: "user:" }).map((e) => e.key)).toEqual([
      "user:1",
      "user:2",
      "user:3",
    ]);
    expect(
      sm.listKv("Counter", ID, { prefix: "user:", startAfter: "user:1", limit: 1 }).map((e) => e.key),
    ).toEqual(["user:2"]);
  });

  it("lists no KV entries for an object that never used the KV API, and says which value does not deserialize", () => {
    const { sm } = manager();
    writeObject(sm, "Counter", ID);
    expect(sm.listKv("Counter", ID)).toEqual([]);
    const db = new Database(sm.dbPath("Counter", ID));
    db.exec("CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB)");
    db.prepare("INSERT INTO _cf_KV (key, value) VALUES (?, ?)").run("bad", Buffer.from([1, 2, 3]));
    db.close();
    expect(sm.listKv("Counter", ID)).toEqual([
      { key: "bad", preview: "<3 bytes that do not deserialize>", bytes: 3 },
    ]);
  });

  it("writes a snapshot that opens as a database with the object's rows", () => {
    const { sm, dir } = manager();
    writeObject(sm, "Counter", ID);
    const dest = join(dir, "it's a snapshot.sqlite");
    sm.snapshot("Counter", ID, dest);
    const copy = new Database(dest, { readonly: true });
    try {
      expect(copy.prepare("SELECT name FROM items ORDER BY id").pluck().all()).toEqual([
        "one",
        "two",
        "three",
      ]);
    } finally {
      copy.close();
    }
  });

  it("moves an object's files and alarm to a new class and id, refusing to overwrite", () => {
    const { sm } = manager();
    const from = writeObject(sm, "Old", ID);
    writeFileSync(`${from}-wal`, "");
    sm.setAlarm(ID, "Old", 5_000);
    sm.move("Old", ID, "New", OTHER);
    expect(existsSync(from)).toBe(false);
    expect(existsSync(`${from}-wal`)).toBe(false);
    expect(existsSync(`${sm.dbPath("New", OTHER)}-wal`)).toBe(true);
    expect(sm.query("New", OTHER, "SELECT count(*) FROM items").rows).toEqual([[3]]);
    expect(sm.alarms()).toEqual([{ objectId: OTHER, className: "New", time: 5_000, retryCount: 0 }]);

    writeObject(sm, "Old", ID);
    expect(() => sm.move("Old", ID, "New", OTHER)).toThrow(/already exists/);
    expect(existsSync(sm.dbPath("Old", ID))).toBe(true);
  });

  it("removes an object's files and its alarm", () => {
    const { sm } = manager();
    const path = writeObject(sm, "Counter", ID);
    writeFileSync(`${path}-wal`, "");
    writeFileSync(`${path}-shm`, "");
    sm.setAlarm(ID, "Counter", 1_000);
    sm.remove("Counter", ID);
    for (const suffix of ["", "-wal", "-shm"]) expect(existsSync(path + suffix)).toBe(false);
    expect(sm.alarms(ID)).toEqual([]);
    expect(sm.storageBytes("Counter", ID)).toBe(0);
  });
});

describe("the State Manager's alarms", () => {
  it("keeps the schedule in state.sqlite across a restart, one alarm per object", () => {
    const { sm, dir } = manager();
    sm.setAlarm(ID, "Counter", 1_000);
    sm.setAlarm(ID, "Counter", 2_000);
    sm.setAlarm(OTHER, "Counter", 3_000);
    sm.setAlarm(OTHER, "Counter", null);
    managers.splice(managers.indexOf(sm), 1);
    sm.close();
    const again = new StateManager(dir, new FakeClock());
    managers.push(again);
    expect(again.alarms()).toEqual([{ objectId: ID, className: "Counter", time: 2_000, retryCount: 0 }]);
    expect(again.alarms(ID)).toHaveLength(1);
    expect(again.alarms(OTHER)).toEqual([]);
  });

  it("fires an alarm when its time comes, keeping the one the handler left set", async () => {
    const { sm, clock } = manager();
    const fired: AlarmRecord[] = [];
    const start = clock.now();
    sm.setAlarm(ID, "Counter", start + 1_000);
    sm.startAlarms(async (a) => {
      fired.push({ ...a });
      return fired.length === 1 ? start + 5_000 : null;
    });
    await clock.advance(900);
    expect(fired).toEqual([]);
    await clock.advance(200);
    expect(fired).toEqual([{ objectId: ID, className: "Counter", time: start + 1_000, retryCount: 0 }]);
    expect(sm.alarms(ID)).toEqual([
      { objectId: ID, className: "Counter", time: start + 5_000, retryCount: 0 },
    ]);
    await clock.advance(4_000);
    expect(fired).toHaveLength(2);
    expect(sm.alarms(ID)).toEqual([]);
  });

  it("retries a failing alarm with backoff from 2 s, and gives up after the last retry", async () => {
    const { sm, clock } = manager();
    const tries: number[] = [];
    sm.setAlarm(ID, "Counter", clock.now() + 50);
    sm.startAlarms(async (a) => {
      tries.push(a.retryCount);
      throw new Error("handler failed");
    });
    await clock.advance(50);
    for (let retry = 1; retry <= ALARM_MAX_RETRIES; retry++) {
      const due = clock.now() + ALARM_FIRST_RETRY_MS * 2 ** (retry - 1);
      expect(sm.alarms(ID)).toEqual([{ objectId: ID, className: "Counter", time: due, retryCount: retry }]);
      await clock.advance(due - clock.now());
    }
    expect(tries).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(sm.alarms(ID)).toEqual([]);
  });

  it("fires an alarm at once on request, whatever its time", async () => {
    const { sm } = manager();
    const fired: string[] = [];
    sm.startAlarms(async (a) => {
      fired.push(a.objectId);
      return null;
    });
    expect(await sm.fireNow(ID)).toBe(false);
    sm.setAlarm(ID, "Counter", Date.UTC(2100, 0, 1));
    expect(await sm.fireNow(ID)).toBe(true);
    expect(fired).toEqual([ID]);
    expect(sm.alarms(ID)).toEqual([]);
  });

  it("fires nothing once stopped, and keeps the schedule of one that fails while stopping", async () => {
    const { sm, clock } = manager();
    let fail: (e: Error) => void = () => {};
    const fired: string[] = [];
    const start = clock.now();
    sm.setAlarm(ID, "Counter", start + 10_000);
    sm.setAlarm(OTHER, "Counter", start + 100);
    sm.startAlarms((a) => {
      fired.push(a.objectId);
      return new Promise((_resolve, reject) => (fail = reject));
    });
    const running = sm.fireNow(ID);
    expect(fired).toEqual([ID]);
    sm.stopAlarms();
    fail(new Error("the engine is stopping"));
    await running;
    expect(sm.alarms(ID)).toEqual([
      { objectId: ID, className: "Counter", time: start + 10_000, retryCount: 0 },
    ]);
    await clock.advance(20_000);
    expect(fired).toEqual([ID]);
    expect(sm.alarms(OTHER)).toHaveLength(1);
  });
});
