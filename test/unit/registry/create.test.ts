import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { ServiceRegistry } from "../../../runtime/registry/registry.ts";
import { systemClock } from "../../../runtime/shared/clock.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("a new object's record", () => {
  it("is on disk as soon as create returns, before any flush (a kill right after must not lose it)", () => {
    const dir = mkdtempSync(join(tmpdir(), "terrarium-create-"));
    dirs.push(dir);
    const reg = ServiceRegistry.open(dir, systemClock);
    const id = "b".repeat(64);
    reg.create({
      id,
      className: "Rows",
      name: "fresh",
      state: "Created",
      createdAt: 1,
      lastActive: 1,
      requests: 0,
      storageBytes: 0,
      lastError: null,
    });
    // Another connection, as a restarted process would open it.
    const other = new Database(join(dir, "registry.sqlite"), { readonly: true });
    try {
      expect(other.prepare("SELECT id, class_name, name FROM objects").all()).toEqual([
        { id, class_name: "Rows", name: "fresh" },
      ]);
    } finally {
      other.close();
      reg.close();
    }
  });
});
