import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServiceRegistry } from "../../../runtime/registry/registry.ts";
import { systemClock } from "../../../runtime/shared/clock.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("the registry's sequence numbers", () => {
  it("stores each transition and log line under the seq the live stream carried, across a restart", () => {
    const dir = mkdtempSync(join(tmpdir(), "terrarium-seq-"));
    dirs.push(dir);
    const id = "a".repeat(64);
    let reg = ServiceRegistry.open(dir, systemClock);
    const t1 = reg.recordTransition({
      time: 1,
      objectId: id,
      className: "C",
      from: null,
      to: "Created",
      cause: "x",
    });
    const t2 = reg.recordTransition({
      time: 2,
      objectId: id,
      className: "C",
      from: "Created",
      to: "Initializing",
      cause: "x",
    });
    const l1 = reg.recordLog({ time: 1, level: "log", source: "C", objectId: id, message: "one" });
    const l2 = reg.recordLog({ time: 2, level: "log", source: "C", objectId: id, message: "two" });
    expect(reg.transitions(id).map((t) => t.seq)).toEqual([t1.seq, t2.seq]);
    expect(reg.logs(id).map((l) => l.seq)).toEqual([l1.seq, l2.seq]);
    expect(l1.seq).toBeGreaterThan(0);
    reg.close();

    reg = ServiceRegistry.open(dir, systemClock);
    const t3 = reg.recordTransition({
      time: 3,
      objectId: id,
      className: "C",
      from: "Initializing",
      to: "Active",
      cause: "x",
    });
    const l3 = reg.recordLog({ time: 3, level: "log", source: "C", objectId: id, message: "three" });
    expect(t3.seq).toBe(t2.seq + 1);
    expect(l3.seq).toBe(l2.seq + 1);
    expect(reg.transitions(id).map((t) => t.seq)).toEqual([t1.seq, t2.seq, t3.seq]);
    expect(reg.logs(id).map((l) => l.seq)).toEqual([l1.seq, l2.seq, l3.seq]);
    reg.close();
  });
});
