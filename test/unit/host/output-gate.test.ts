import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DurableObjectStorage } from "../../../runtime/host/storage.ts";

/**
 * The implicit transaction and output gate of ctx.storage (output-gate.ts):
 * what another connection to the same file sees is what was committed.
 */
let dir: string;
let db: Database.Database;
let reader: Database.Database;
let storage: DurableObjectStorage;
let alarms: (number | null)[];

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The keys committed to the file, read through a second connection. */
function committedKeys(): string[] {
  const table = reader.prepare("SELECT 1 FROM sqlite_master WHERE name = '_cf_KV'").get();
  if (!table) return [];
  return (reader.prepare("SELECT key FROM _cf_KV ORDER BY key").all() as { key: string }[]).map((r) => r.key);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "terrarium-gate-"));
  const file = join(dir, "object.sqlite");
  db = new Database(file);
  db.pragma("journal_mode = WAL");
  reader = new Database(file);
  alarms = [];
  storage = new DurableObjectStorage(
    db,
    { initial: null, alarmChanged: (t) => alarms.push(t) },
    { deleteAllDeletesAlarm: true },
  );
});

afterEach(() => {
  reader.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("write coalescing", () => {
  it("commits the writes of one turn together, once the turn is over", async () => {
    await storage.put("a", 1);
    storage.kv.put("b", 2);
    storage.sql.exec("CREATE TABLE t (x)");
    expect(committedKeys()).toEqual([]);
    expect(await storage.get("a")).toBe(1);
    await nextTurn();
    expect(committedKeys()).toEqual(["a", "b"]);
    expect(reader.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get()).toEqual({ name: "t" });
  });

  it("flush() commits at once (the output gate before an answer)", async () => {
    await storage.put("a", 1);
    storage.flush();
    expect(committedKeys()).toEqual(["a"]);
  });

  it("a reset discards what the turn wrote and refuses later writes", async () => {
    await storage.put("kept", 1);
    await nextTurn();
    await storage.put("lost", 2);
    storage.sql.exec("CREATE TABLE gone (x)");
    const reason = new Error("reset");
    storage.breakWith(reason);
    await nextTurn();
    expect(committedKeys()).toEqual(["kept"]);
    expect(reader.prepare("SELECT 1 FROM sqlite_master WHERE name = 'gone'").get()).toBeUndefined();
    await expect(storage.put("after", 3)).rejects.toBe(reason);
    expect(() => storage.kv.put("after", 3)).toThrow(reason);
  });

  it("transactionSync joins the implicit transaction", async () => {
    storage.transactionSync(() => storage.kv.put("a", 1));
    storage.breakWith(new Error("reset"));
    expect(committedKeys()).toEqual([]);
  });

  it("transaction() commits what came before it, and itself when it ends", async () => {
    await storage.put("before", 1);
    let seenInside: string[] = [];
    await storage.transaction(async (txn) => {
      seenInside = committedKeys();
      await txn.put("inside", 2);
    });
    expect(seenInside).toEqual(["before"]);
    expect(committedKeys()).toEqual(["before", "inside"]);
  });

  it("tells the orchestrator of an alarm when it is committed, and not at all when rolled back", async () => {
    const t = Date.now() + 60_000;
    await storage.setAlarm(t);
    expect(alarms).toEqual([]);
    await nextTurn();
    expect(alarms).toEqual([t]);
    await storage.setAlarm(t + 1000);
    storage.breakWith(new Error("reset"));
    await nextTurn();
    expect(alarms).toEqual([t]);
    expect(await storage.getAlarm()).toBe(t);
  });

  it("deleteAll() is refused inside transaction()", async () => {
    await expect(storage.transaction(() => storage.deleteAll())).rejects.toThrow(
      "Cannot call deleteAll() within a transaction",
    );
  });
});
