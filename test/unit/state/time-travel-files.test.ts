import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import { afterEach, describe, expect, it } from "vitest";
import { openSqlite } from "../../../runtime/shared/sqlite-native.ts";
import { ClassVersions, versionHash } from "../../../runtime/state/class-versions.ts";
import { KEEP_AUTOMATIC, SnapshotStore } from "../../../runtime/state/snapshots.ts";
import { diffStorage } from "../../../runtime/state/storage-diff.ts";

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function dir(): string {
  root = mkdtempSync(join(tmpdir(), "terrarium-unit-"));
  return root;
}

function db(path: string, sql: string, kv: Record<string, unknown> = {}): string {
  const d = openSqlite(path);
  d.exec(sql);
  d.exec("CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB)");
  for (const [k, v] of Object.entries(kv)) d.prepare("INSERT INTO _cf_KV VALUES (?, ?)").run(k, serialize(v));
  d.close();
  return path;
}

describe("diffStorage", () => {
  it("matches rows on the primary key, on the rowid without one, and names tables added and removed", () => {
    const d = dir();
    const a = db(
      join(d, "a.sqlite"),
      `CREATE TABLE t (k TEXT, n INTEGER, v TEXT, PRIMARY KEY (k, n)) WITHOUT ROWID;
       INSERT INTO t VALUES ('x', 1, 'a'), ('x', 2, 'b'), ('y', 1, 'c');
       CREATE TABLE plain (v); INSERT INTO plain VALUES ('one'), ('two');
       CREATE TABLE gone (v); INSERT INTO gone VALUES (1);`,
      { same: 1, changed: { n: 1 }, removed: "r" },
    );
    const b = db(
      join(d, "b.sqlite"),
      `CREATE TABLE t (k TEXT, n INTEGER, v TEXT, PRIMARY KEY (k, n)) WITHOUT ROWID;
       INSERT INTO t VALUES ('x', 1, 'a'), ('x', 2, 'B'), ('z', 9, 'new');
       CREATE TABLE plain (v); INSERT INTO plain VALUES ('one'), ('TWO'), ('three');
       CREATE TABLE fresh (v, w); INSERT INTO fresh VALUES (1, 2);`,
      { same: 1, changed: { n: 2 }, added: [1, 2] },
    );
    const diff = diffStorage(a, b);
    const t = (name: string) => diff.tables.find((x) => x.table === name)!;
    expect(diff.same).toBe(false);
    expect(t("t")).toMatchObject({
      key: ["k", "n"],
      counts: { added: 1, changed: 1, removed: 1, before: 3, after: 3 },
      added: [{ k: "z", n: 9, v: "new" }],
      removed: [{ k: "y", n: 1, v: "c" }],
      changed: [{ key: { k: "x", n: 2 }, before: { v: "b" }, after: { v: "B" } }],
    });
    expect(t("plain")).toMatchObject({
      key: ["rowid"],
      counts: { added: 1, changed: 1, removed: 0 },
      added: [{ rowid: 3, v: "three" }],
    });
    expect(t("gone")).toMatchObject({ status: "removed", counts: { removed: 1, before: 1, after: 0 } });
    expect(t("fresh")).toMatchObject({ status: "added", added: [{ v: 1, w: 2 }] });
    expect(diff.kv.added).toEqual([{ key: "added", value: "[ 1, 2 ]" }]);
    expect(diff.kv.removed).toEqual([{ key: "removed", value: "'r'" }]);
    expect(diff.kv.changed).toEqual([{ key: "changed", before: "{ n: 1 }", after: "{ n: 2 }" }]);
    expect(diffStorage(a, a).same).toBe(true);
  });

  it("reports a change of columns and compares the columns both sides have", () => {
    const d = dir();
    const a = db(
      join(d, "a.sqlite"),
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES (1, 'a');",
    );
    const b = db(
      join(d, "b.sqlite"),
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v, extra); INSERT INTO t VALUES (1, 'a', 'new column');",
    );
    const t = diffStorage(a, b).tables[0]!;
    expect(t.schemaChanged).toBe(true);
    expect(t.counts).toMatchObject({ added: 0, changed: 0, removed: 0 });
    expect(diffStorage(a, b).same).toBe(false);
  });

  it("refuses a file that does not exist instead of creating it", () => {
    const d = dir();
    const a = db(join(d, "a.sqlite"), "CREATE TABLE t (v)");
    expect(() => diffStorage(a, join(d, "missing.sqlite"))).toThrow(/no such database/);
    expect(readdirSync(d)).toEqual(["a.sqlite"]);
  });
});

describe("SnapshotStore", () => {
  const meta = (time: number, reason: "manual" | "load") => ({
    objectId: "a".repeat(64),
    className: "Notes",
    objectName: "n",
    time,
    reason,
    label: null,
    alarm: null,
  });

  it("lists newest first, finds by id alone, prunes automatic snapshots past the cap and keeps manual ones", async () => {
    const store = new SnapshotStore(dir());
    const write = (dest: string) => writeFileSync(dest, "x");
    const manual = await store.add(meta(1_000, "manual"), write);
    for (let i = 0; i < KEEP_AUTOMATIC + 3; i++) await store.add(meta(2_000 + i, "load"), write);
    const list = store.list("Notes", "a".repeat(64));
    expect(list).toHaveLength(KEEP_AUTOMATIC + 1);
    expect(list.at(-1)!.id).toBe(manual.id);
    expect(list[0]!.time).toBe(2_000 + KEEP_AUTOMATIC + 2);
    expect(store.find(manual.id)).toMatchObject({ id: manual.id, bytes: 1 });
    expect(store.find("../../x")).toBeNull();
  });

  it("leaves nothing behind when the copy fails", async () => {
    const root = dir();
    const store = new SnapshotStore(root);
    await expect(
      store.add(meta(1, "manual"), () => {
        throw new Error("disk full");
      }),
    ).rejects.toThrow("disk full");
    expect(store.list("Notes", "a".repeat(64))).toEqual([]);
    expect(readdirSync(join(root, "snapshots", "Notes", "a".repeat(64)))).toEqual([]);
  });
});

describe("ClassVersions", () => {
  it("keeps each text once by its hash, adds a version only when the code changed, and checks the text it reads", () => {
    const root = dir();
    const v = new ClassVersions(root);
    const one = v.record("Notes", "src/notes.ts", "v1", 1, "start");
    expect(v.record("Notes", "src/notes.ts", "v1", 2, "update")).toEqual(one);
    v.record("Notes", "src/notes.ts", "v2", 3, "update");
    v.record("Notes", "src/notes.ts", "v1", 4, "rollback");
    expect(v.history("Notes").map((x) => x.cause)).toEqual(["start", "update", "rollback"]);
    expect(v.current("Notes")!.hash).toBe(versionHash("v1"));
    expect(readdirSync(join(root, "versions", "blobs"))).toHaveLength(2);
    expect(v.text(one.hash)).toBe("v1");
    writeFileSync(join(root, "versions", "blobs", one.hash), "tampered");
    expect(() => v.text(one.hash)).toThrow(/damaged/);
    expect(() => v.text("nope")).toThrow(/not a version hash/);
  });
});
