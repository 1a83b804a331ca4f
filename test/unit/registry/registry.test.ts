import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServiceRegistry, type ObjectRecord } from "../../../runtime/registry/registry.ts";
import { systemClock } from "../../../runtime/shared/clock.ts";

// The Service Registry on its own, on a real registry.sqlite in a temporary
// data folder: what it remembers of classes and objects, what it writes
// (at once or at the next flush), and how transitions and logs read back.
// create.test.ts and seq.test.ts cover create's write-through and the seqs.

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

const dirs: string[] = [];
const open: ServiceRegistry[] = [];
afterEach(() => {
  for (const r of open.splice(0)) r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "terrarium-registry-"));
  dirs.push(dir);
  return dir;
}

function openRegistry(dir: string): ServiceRegistry {
  const reg = ServiceRegistry.open(dir, systemClock);
  open.push(reg);
  return reg;
}

/** Closes `reg` (which flushes) and opens the folder again, as a restart does. */
function restart(reg: ServiceRegistry, dir: string): ServiceRegistry {
  open.splice(open.indexOf(reg), 1);
  reg.close();
  return openRegistry(dir);
}

function record(id: string, over: Partial<ObjectRecord> = {}): ObjectRecord {
  return {
    id,
    className: "Counter",
    name: null,
    state: "Created",
    createdAt: 1,
    lastActive: 1,
    requests: 0,
    storageBytes: 0,
    lastError: null,
    ...over,
  };
}

describe("the Service Registry's classes and objects", () => {
  it("holds the project's classes as given", () => {
    const reg = openRegistry(folder());
    expect(reg.classes()).toEqual([]);
    const classes = [{ className: "Counter", bindings: ["COUNTER"], kind: "custom", exported: true }];
    reg.setClasses(classes);
    expect(reg.classes()).toEqual(classes);
  });

  it("knows every object it created, by id, and after a restart", () => {
    const dir = folder();
    let reg = openRegistry(dir);
    reg.create(record(A, { name: "alice" }));
    reg.create(record(B, { className: "Room" }));
    expect(reg.size).toBe(2);
    expect(reg.get(A)?.name).toBe("alice");
    expect(reg.get(C)).toBeUndefined();
    reg = restart(reg, dir);
    expect([...reg.objects()].map((o) => [o.id, o.className, o.name]).sort()).toEqual([
      [A, "Counter", "alice"],
      [B, "Room", null],
    ]);
  });

  it("writes a touched record's changes at the next flush, and forgets a removed one", () => {
    const dir = folder();
    let reg = openRegistry(dir);
    const a = reg.create(record(A));
    reg.create(record(B));
    a.state = "Hibernating";
    a.requests = 7;
    a.lastError = "boom";
    reg.touch(a);
    reg.remove(B);
    expect(reg.get(B)).toBeUndefined();
    reg.flush();
    reg = restart(reg, dir);
    expect(reg.get(A)).toMatchObject({ state: "Hibernating", requests: 7, lastError: "boom" });
    expect(reg.get(B)).toBeUndefined();
    expect(reg.size).toBe(1);
  });

  it("writes what is buffered when it closes", () => {
    const dir = folder();
    let reg = openRegistry(dir);
    const a = reg.create(record(A));
    a.storageBytes = 4096;
    reg.touch(a);
    reg.recordTransition({
      time: 2,
      objectId: A,
      className: "Counter",
      from: null,
      to: "Created",
      cause: "x",
    });
    reg.recordLog({ time: 2, level: "warn", source: "Counter", objectId: A, message: "hello" });
    reg = restart(reg, dir);
    expect(reg.get(A)?.storageBytes).toBe(4096);
    expect(reg.transitions(A).map((t) => t.to)).toEqual(["Created"]);
    expect(reg.logs(A).map((l) => [l.level, l.message])).toEqual([["warn", "hello"]]);
  });

  it("gives an object a new id and class with its transitions and logs, refusing an unknown or taken id", () => {
    const dir = folder();
    let reg = openRegistry(dir);
    reg.create(record(A, { name: "alice" }));
    reg.create(record(C));
    reg.recordTransition({
      time: 1,
      objectId: A,
      className: "Counter",
      from: null,
      to: "Created",
      cause: "x",
    });
    reg.recordLog({ time: 1, level: "log", source: "Counter", objectId: A, message: "before" });
    expect(() => reg.rekey(B, C, "Tally")).toThrow(/no object with id/);
    expect(() => reg.rekey(A, C, "Tally")).toThrow(/already exists/);
    reg.rekey(A, B, "Tally");
    expect(reg.get(A)).toBeUndefined();
    expect(reg.get(B)).toMatchObject({ id: B, className: "Tally", name: "alice" });
    expect(reg.transitions(A)).toEqual([]);
    expect(reg.transitions(B).map((t) => [t.objectId, t.className])).toEqual([[B, "Tally"]]);
    expect(reg.logs(B).map((l) => l.message)).toEqual(["before"]);
    reg = restart(reg, dir);
    expect(reg.get(B)?.className).toBe("Tally");
    expect(reg.get(A)).toBeUndefined();
  });
});

describe("the Service Registry's transitions and logs", () => {
  function filled(): ServiceRegistry {
    const reg = openRegistry(folder());
    for (let i = 1; i <= 5; i++) {
      for (const id of [A, B]) {
        reg.recordTransition({
          time: i,
          objectId: id,
          className: "Counter",
          from: null,
          to: "Active",
          cause: `${id[0]}${i}`,
        });
        reg.recordLog({ time: i, level: "log", source: "Counter", objectId: id, message: `${id[0]}${i}` });
      }
    }
    reg.recordLog({ time: 6, level: "info", source: "engine", objectId: null, message: "engine" });
    return reg;
  }

  it("reads one object's, or everyone's, oldest first, without waiting for a flush", () => {
    const reg = filled();
    expect(reg.transitions(A).map((t) => t.cause)).toEqual(["a1", "a2", "a3", "a4", "a5"]);
    expect(reg.transitions(null)).toHaveLength(10);
    expect(reg.logs(B).map((l) => l.message)).toEqual(["b1", "b2", "b3", "b4", "b5"]);
    expect(
      reg
        .logs(null)
        .map((l) => l.message)
        .slice(-2),
    ).toEqual(["b5", "engine"]);
    expect(reg.logs(null).at(-1)).toMatchObject({ objectId: null, source: "engine", level: "info" });
  });

  it("pages back from the newest: `limit` entries before the seq `before`", () => {
    const reg = filled();
    const last2 = reg.transitions(A, { limit: 2 });
    expect(last2.map((t) => t.cause)).toEqual(["a4", "a5"]);
    const earlier = reg.transitions(A, { limit: 2, before: last2[0]!.seq });
    expect(earlier.map((t) => t.cause)).toEqual(["a2", "a3"]);
    const logs = reg.logs(null, { limit: 3 });
    expect(logs.map((l) => l.message)).toEqual(["a5", "b5", "engine"]);
    expect(reg.logs(null, { limit: 2, before: logs[0]!.seq }).map((l) => l.message)).toEqual(["a4", "b4"]);
  });
});
