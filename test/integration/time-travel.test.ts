import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/engine.ts";
import { enginesPerTest, request, until } from "../helpers/project.ts";

const engines = enginesPerTest();

type Notes = { version: string; notes: { id: number; text: string }[]; count: number };

async function notes(engine: Engine, name: string, action = "", query = ""): Promise<Notes> {
  const res = await request(engine, action ? "POST" : "GET", `/notes/${name}/${action}${query}`);
  if (res.status !== 200) throw new Error(`${res.status} ${res.body}`);
  return res.json as Notes;
}

async function idOf(engine: Engine, name: string): Promise<string> {
  const found = await engine.api.listObjects({ search: name });
  const o = found.objects.find((x) => x.name === name);
  if (!o) throw new Error(`no object ${name}`);
  return o.id;
}

function editNotes(dir: string, from: string, to: string): void {
  const path = join(dir, "src", "notes.ts");
  const text = readFileSync(path, "utf8");
  if (!text.includes(from)) throw new Error(`${from} not in notes.ts`);
  writeFileSync(path, text.replaceAll(from, to));
}

describe("snapshots of an object's storage", () => {
  it("diffs a snapshot against now and against another snapshot: rows added, changed, removed, and KV keys", async () => {
    const { engine } = await engines.open("notes");
    await notes(engine, "ada", "add", "?text=one");
    await notes(engine, "ada", "add", "?text=two");
    const id = await idOf(engine, "ada");
    // Taken while the object is live: copied in its worker.
    expect((await engine.api.getObject(id))?.state).not.toBe("Hibernating");
    const first = await engine.api.takeSnapshot({ objectId: id, label: "two notes" });
    expect(first).toMatchObject({ objectId: id, className: "Notes", reason: "manual", label: "two notes" });

    await notes(engine, "ada", "add", "?text=three");
    await notes(engine, "ada", "edit", "?id=1&text=ONE");
    await notes(engine, "ada", "delete", "?id=2");

    const toNow = await engine.api.diffSnapshots({ objectId: id, from: first.id });
    expect(toNow.same).toBe(false);
    const table = toNow.tables.find((t) => t.table === "notes")!;
    expect(table.key).toEqual(["id"]);
    expect(table.counts).toEqual({ added: 1, changed: 1, removed: 1, before: 2, after: 2 });
    expect(table.added).toEqual([{ id: 3, text: "three" }]);
    expect(table.removed).toEqual([{ id: 2, text: "two" }]);
    expect(table.changed).toEqual([
      { key: { id: 1 }, before: { id: 1, text: "one" }, after: { id: 1, text: "ONE" } },
    ]);
    expect(toNow.kv.counts).toMatchObject({ added: 1, changed: 1, removed: 0 });
    expect(toNow.kv.added).toEqual([{ key: "deleted", value: "true" }]);
    expect(toNow.kv.changed).toEqual([{ key: "count", before: "2", after: "3" }]);
    // Bookkeeping tables (_cf_KV, sqlite_*) are not listed as tables.
    expect(toNow.tables.map((t) => t.table)).toEqual(["notes"]);

    // The object hibernated: the snapshot is read from its file.
    await engine.api.hibernate(id);
    const second = await engine.api.takeSnapshot({ objectId: id });
    const between = await engine.api.diffSnapshots({ objectId: id, from: first.id, to: second.id });
    expect(between.tables[0]!.counts).toEqual(table.counts);
    expect((await engine.api.diffSnapshots({ objectId: id, from: second.id })).same).toBe(true);
    expect((await engine.api.snapshots(id)).map((s) => s.id)).toEqual([second.id, first.id]);
  });

  it("restores an object to a snapshot: it stops, wakes on the restored storage, and the restore can be undone", async () => {
    const { engine } = await engines.open("notes");
    await notes(engine, "bob", "add", "?text=kept");
    const id = await idOf(engine, "bob");
    const snap = await engine.api.takeSnapshot({ objectId: id });
    await notes(engine, "bob", "add", "?text=lost");
    await notes(engine, "bob", "edit", "?id=1&text=changed");
    expect((await notes(engine, "bob")).notes).toHaveLength(2);

    const r = await engine.api.restoreSnapshot({ objectId: id, snapshotId: snap.id });
    expect(r.restored.id).toBe(snap.id);
    expect(r.before.reason).toBe("restore");
    expect((await engine.api.getObject(id))?.state).toBe("Hibernating");
    const after = await notes(engine, "bob");
    expect(after.notes).toEqual([{ id: 1, text: "kept" }]);
    expect(after.count).toBe(1);
    const states = (await engine.api.transitions({ objectId: id })).map((t) => t.to);
    const h = states.lastIndexOf("Hibernating");
    expect(states.slice(h, h + 3)).toEqual(["Hibernating", "Initializing", "Active"]);

    // The storage just before the restore was kept: restoring it undoes the restore.
    await engine.api.restoreSnapshot({ objectId: id, snapshotId: r.before.id });
    expect((await notes(engine, "bob")).notes).toEqual([
      { id: 1, text: "changed" },
      { id: 2, text: "lost" },
    ]);
  });

  it("refuses a snapshot that does not exist, and a malformed id, changing nothing", async () => {
    const { engine } = await engines.open("notes");
    await notes(engine, "cy", "add", "?text=x");
    const id = await idOf(engine, "cy");
    await expect(engine.api.restoreSnapshot({ objectId: id, snapshotId: "00000000-abcdef" })).rejects.toThrow(
      /has no snapshot 00000000-abcdef/,
    );
    await expect(engine.api.diffSnapshots({ objectId: id, from: "../../etc" })).rejects.toThrow(
      /snapshot id/,
    );
    expect((await notes(engine, "cy")).notes).toEqual([{ id: 1, text: "x" }]);
  });

  it("copies what is committed while the object holds a transaction open across an await", async () => {
    const { engine } = await engines.open("notes");
    await notes(engine, "tx", "add", "?text=committed");
    const id = await idOf(engine, "tx");
    const held = notes(engine, "tx", "hold", "?text=uncommitted");
    await until(
      async () => ((await request(engine, "GET", "/notes/tx/holding")).json as { holding: boolean }).holding,
      "the transaction to be open",
    );
    const during = await engine.api.takeSnapshot({ objectId: id });
    await request(engine, "POST", "/notes/tx/release");
    expect((await held).notes).toHaveLength(2);
    const diff = await engine.api.diffSnapshots({ objectId: id, from: during.id });
    // The snapshot has the committed note only; the held transaction's row and key came after.
    expect(diff.tables[0]!.counts).toMatchObject({ before: 1, after: 2, added: 1 });
    expect(diff.tables[0]!.added).toEqual([{ id: 2, text: "uncommitted" }]);
    expect(diff.kv.added).toEqual([{ key: "held", value: "true" }]);
  });

  it("keeps an object's snapshots past Terminate: the object made again under its name restores one", async () => {
    const { engine } = await engines.open("notes");
    await notes(engine, "ida", "add", "?text=precious");
    const id = await idOf(engine, "ida");
    const snap = await engine.api.takeSnapshot({ objectId: id });
    expect(await engine.api.terminate(id)).toBe(true);
    expect((await notes(engine, "ida")).notes).toEqual([]);
    expect(await idOf(engine, "ida")).toBe(id);
    expect((await engine.api.snapshots(id)).map((s) => s.id)).toEqual([snap.id]);
    await engine.api.restoreSnapshot({ objectId: id, snapshotId: snap.id });
    expect((await notes(engine, "ida")).notes).toEqual([{ id: 1, text: "precious" }]);
  });

  it("snapshots live objects before a live code update", async () => {
    const { engine, project } = await engines.open("notes");
    await notes(engine, "dee", "add", "?text=before");
    const id = await idOf(engine, "dee");
    editNotes(project.dir, '"v1"', '"v2"');
    const r = await engine.reload();
    expect(r).toMatchObject({ ok: true, updated: 1 });
    const snaps = await engine.api.snapshots(id);
    expect(snaps.map((s) => s.reason)).toEqual(["update"]);
    expect((await notes(engine, "dee")).version).toBe("v2");
    expect((await engine.api.diffSnapshots({ objectId: id, from: snaps[0]!.id })).same).toBe(true);
  });

  it("resets one object, a class, or everything: storage and alarm gone, a snapshot of each kept", async () => {
    const { engine } = await engines.open("notes");
    for (const n of ["e1", "e2", "e3"]) await notes(engine, n, "add", `?text=${n}`);
    const e1 = await idOf(engine, "e1");
    const one = await engine.api.resetState({ objectId: e1 });
    expect(one.objects).toBe(1);
    expect(one.snapshots[0]).toMatchObject({ objectId: e1, reason: "reset" });
    expect((await notes(engine, "e1")).notes).toEqual([]);
    expect((await notes(engine, "e2")).notes).toHaveLength(1);
    // The object is still known, with its history.
    expect((await engine.api.transitions({ objectId: e1 })).length).toBeGreaterThan(3);

    const cls = await engine.api.resetState({ className: "Notes" });
    expect(cls.objects).toBe(3);
    expect((await notes(engine, "e2")).notes).toEqual([]);
    await expect(engine.api.resetState({ className: "Nope" })).rejects.toThrow(/no class Nope/);

    await notes(engine, "e3", "add", "?text=again");
    const all = await engine.api.resetState({ all: true });
    expect(all.objects).toBe(3);
    expect((await notes(engine, "e3")).notes).toEqual([]);
    // What the reset deleted comes back from its snapshot.
    const e3 = await idOf(engine, "e3");
    const kept = all.snapshots.find((s) => s.objectId === e3)!;
    await engine.api.restoreSnapshot({ objectId: e3, snapshotId: kept.id });
    expect((await notes(engine, "e3")).notes).toEqual([{ id: 1, text: "again" }]);
  });
});

describe("class versions and rollback", () => {
  it("keeps every version of a class's code, shows which one a live object runs, and rolls back through Updating", async () => {
    const { engine, project } = await engines.open("notes");
    await notes(engine, "fay", "add", "?text=a");
    const id = await idOf(engine, "fay");
    const v1 = await engine.api.classVersions("Notes");
    expect(v1.versions).toHaveLength(1);
    expect(v1.versions[0]).toMatchObject({ file: "src/notes.ts", cause: "start" });
    const first = v1.versions[0]!.hash;
    expect(await engine.api.objectVersion(id)).toBe(first);
    expect(existsSync(join(project.dataDir, "versions", "blobs", first))).toBe(true);

    editNotes(project.dir, '"v1"', '"v2"');
    expect((await engine.reload()).ok).toBe(true);
    const v2 = await engine.api.classVersions("Notes");
    expect(v2.versions.map((v) => v.cause)).toEqual(["start", "update"]);
    const second = v2.current!;
    expect(second).not.toBe(first);
    expect(await engine.api.objectVersion(id)).toBe(second);
    expect(v2.live).toEqual({ [second]: 1 });
    expect(await engine.api.classVersionText({ className: "Notes", hash: first })).toContain('"v1"');

    const rolled = await engine.api.rollbackClass({ className: "Notes", hash: first });
    expect(rolled).toMatchObject({ className: "Notes", version: first, updated: 1, file: "src/notes.ts" });
    expect((await notes(engine, "fay")).version).toBe("v1");
    expect(await engine.api.objectVersion(id)).toBe(first);
    const after = await engine.api.classVersions("Notes");
    expect(after.versions.map((v) => v.cause)).toEqual(["start", "update", "rollback"]);
    expect(after.current).toBe(first);
    expect(readFileSync(join(project.dir, "src", "notes.ts"), "utf8")).toContain('"v1"');
    const states = (await engine.api.transitions({ objectId: id })).map((t) => t.to);
    expect(states.filter((s) => s === "Updating")).toHaveLength(2);
  });

  it("refuses a rollback whose constructor throws on the current storage, leaving the file and the running code as they were", async () => {
    const { engine, project } = await engines.open("notes");
    const first = (await engine.api.classVersions("Notes")).current!;
    editNotes(project.dir, "const SCHEMA = 1;", "const SCHEMA = 2;");
    editNotes(project.dir, '"v1"', '"v2"');
    expect((await engine.reload()).ok).toBe(true);
    await notes(engine, "gus", "add", "?text=new");
    const id = await idOf(engine, "gus");
    // Not live: the check runs on a copy of its storage all the same.
    await engine.api.hibernate(id);
    const before = readFileSync(join(project.dir, "src", "notes.ts"), "utf8");
    await expect(engine.api.rollbackClass({ className: "Notes", hash: first })).rejects.toThrow(
      /storage is at schema 2; this code knows 1/,
    );
    expect(readFileSync(join(project.dir, "src", "notes.ts"), "utf8")).toBe(before);
    expect((await notes(engine, "gus")).version).toBe("v2");
    expect((await engine.api.classVersions("Notes")).versions.map((v) => v.cause)).toEqual([
      "start",
      "update",
    ]);
    await expect(engine.api.rollbackClass({ className: "Notes", hash: "0".repeat(64) })).rejects.toThrow(
      /has no version 00000000/,
    );
  });

  it("snapshots the busiest objects on a schedule during a load run", async () => {
    const { engine } = await engines.open("notes");
    await notes(engine, "hal", "add", "?text=x");
    const id = await idOf(engine, "hal");
    const stop = engine.snapshotDuringLoad("test-run", 50, 1);
    try {
      await until(async () => (await engine.api.snapshots(id)).length >= 2, "two scheduled snapshots");
    } finally {
      stop();
    }
    const snaps = await engine.api.snapshots(id);
    expect(snaps[0]).toMatchObject({ reason: "load" });
    expect(snaps[0]!.label).toMatch(/^run test-run at \d+ s$/);
  });
});
