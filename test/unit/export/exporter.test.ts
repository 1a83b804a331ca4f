import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseJsonc } from "jsonc-parser";
import { exportProject, formatJson, planExport, writeExport } from "../../../runtime/export/exporter.ts";
import { deployedClasses, planMigrations } from "../../../runtime/export/migrations.ts";
import type { Migration } from "../../../runtime/config/wrangler.ts";

const REPO = resolve(import.meta.dirname, "..", "..", "..");
const FIXTURES = join(REPO, "test", "fixtures");

const m = (tag: string, parts: Partial<Migration> = {}): Migration => ({
  tag,
  newClasses: [],
  newSqliteClasses: [],
  renamedClasses: [],
  deletedClasses: [],
  ...parts,
});

describe("planMigrations", () => {
  it("adds new_sqlite_classes for classes no migration declares, with the next tag", () => {
    const plan = planMigrations({
      migrations: [m("v1", { newSqliteClasses: ["A"] }), m("v2", { newClasses: ["B"] })],
      history: [],
      needed: ["A", "B", "C"],
      exported: new Set(["A", "B", "C"]),
    });
    expect(plan.added).toEqual({ tag: "v3", new_sqlite_classes: ["C"] });
    expect(plan.warnings).toEqual([]);
  });

  it("adds nothing when the project's migrations cover every class", () => {
    const plan = planMigrations({
      migrations: [m("v1", { newSqliteClasses: ["A"] })],
      history: [],
      needed: ["A"],
      exported: new Set(["A"]),
    });
    expect(plan.added).toBeNull();
  });

  it("turns renames and deletions of deployed classes into a migration, and ignores the others", () => {
    const plan = planMigrations({
      migrations: [m("first", { newSqliteClasses: ["Old", "Gone", "Kept"] })],
      history: [
        { op: "rename", from: "Old", to: "New" },
        { op: "delete", class: "Gone" },
        // Never deployed: nothing to migrate.
        { op: "rename", from: "Draft", to: "Draft2" },
        { op: "delete", class: "Scratch" },
      ],
      needed: ["New", "Kept", "Draft2"],
      exported: new Set(["New", "Kept", "Draft2"]),
    });
    expect(plan.added).toEqual({
      tag: "terrarium-2",
      new_sqlite_classes: ["Draft2"],
      renamed_classes: [{ from: "Old", to: "New" }],
      deleted_classes: ["Gone"],
    });
  });

  it("adds nothing twice when the Design view wrote the rename and deletion into the project's migrations too", () => {
    const plan = planMigrations({
      migrations: [
        m("v1", { newSqliteClasses: ["Old", "Gone"] }),
        m("v2", { renamedClasses: [{ from: "Old", to: "New" }] }),
        m("v3", { deletedClasses: ["Gone"] }),
      ],
      history: [
        { op: "rename", from: "Old", to: "New" },
        { op: "delete", class: "Gone" },
      ],
      needed: ["New"],
      exported: new Set(["New"]),
    });
    expect(plan.added).toBeNull();
    expect(plan.warnings).toEqual([]);
  });

  it("warns, and deletes nothing, when a deployed class disappeared without a recorded deletion", () => {
    const plan = planMigrations({
      migrations: [m("v1", { newSqliteClasses: ["A", "B"] })],
      history: [],
      needed: ["A"],
      exported: new Set(["A"]),
    });
    expect(plan.added).toBeNull();
    expect(plan.warnings.join("\n")).toMatch(/class B is deployed .* no longer exports it/);
  });

  it("follows renames and deletions already in the project's migrations", () => {
    expect(
      deployedClasses([
        m("v1", { newSqliteClasses: ["A", "B"] }),
        m("v2", { renamedClasses: [{ from: "A", to: "C" }], deletedClasses: ["B"] }),
      ]),
    ).toEqual(["C"]);
  });
});

describe("formatJson", () => {
  it("keeps short values on one line and breaks long ones", () => {
    expect(formatJson({ a: [1, 2], b: { c: "d" } })).toBe('{ "a": [1, 2], "b": { "c": "d" } }');
    const long = formatJson({ list: Array.from({ length: 20 }, (_, i) => `item-${i}`) });
    expect(long.split("\n").length).toBeGreaterThan(20);
    expect(JSON.parse(long)).toEqual({ list: Array.from({ length: 20 }, (_, i) => `item-${i}`) });
  });
});

describe("export", () => {
  let root: string | null = null;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    root = null;
  });

  function scratch(): string {
    root = mkdtempSync(join(tmpdir(), "terrarium-export-unit-"));
    return root;
  }

  it.each(["counter", "aidevos"])(
    "generates the %s sample's wrangler.jsonc and entry (snapshot)",
    async (sample) => {
      const plan = await planExport(join(REPO, "resources", "samples", sample));
      const file = (p: string): string => String(plan.files.find((f) => f.path === p)?.contents);
      await expect(file("wrangler.jsonc")).toMatchFileSnapshot(`__snapshots__/${sample}.wrangler.jsonc.snap`);
      await expect(file("src/terrarium/entry.ts")).toMatchFileSnapshot(
        `__snapshots__/${sample}.entry.ts.snap`,
      );
    },
  );

  it("keeps the user's files byte for byte and points main at the generated entry", async () => {
    const plan = await planExport(join(FIXTURES, "kitchen"));
    const own = plan.files.find((f) => f.path === "src/index.ts");
    expect(
      Buffer.from(own!.contents).equals(readFileSync(join(FIXTURES, "kitchen", "src", "index.ts"))),
    ).toBe(true);
    const config = parseJsonc(String(plan.files.find((f) => f.path === "wrangler.jsonc")!.contents)) as {
      main: string;
      durable_objects: { bindings: { name: string; class_name: string }[] };
      migrations: unknown[];
      vars: unknown;
    };
    expect(config.main).toBe("src/terrarium/entry.ts");
    expect(config.durable_objects.bindings).toContainEqual({
      name: "TERRARIUM_EVENT_BUS",
      class_name: "TerrariumEventBus",
    });
    expect(config.migrations).toEqual([
      { tag: "v1", new_sqlite_classes: ["KvCounter", "Fragile", "Audit"] },
      { tag: "v2", new_sqlite_classes: ["TerrariumEventBus"] },
    ]);
    expect(config.vars).toEqual({ MODE: "test" });
    expect(plan.files.map((f) => f.path)).toEqual([...plan.files.map((f) => f.path)].sort());
  });

  it("refuses a non-empty --out without force, and with force replaces it but for .git", async () => {
    const out = join(scratch(), "out");
    mkdirSync(join(out, ".git"), { recursive: true });
    writeFileSync(join(out, ".git", "HEAD"), "ref: refs/heads/main\n");
    writeFileSync(join(out, "stale.txt"), "old");
    await expect(exportProject(join(FIXTURES, "kitchen"), out)).rejects.toThrow(/not empty; pass --force/);
    expect(existsSync(join(out, "wrangler.jsonc"))).toBe(false);
    await exportProject(join(FIXTURES, "kitchen"), out, { force: true });
    expect(existsSync(join(out, "stale.txt"))).toBe(false);
    expect(readFileSync(join(out, ".git", "HEAD"), "utf8")).toBe("ref: refs/heads/main\n");
    expect(existsSync(join(out, "src", "terrarium", "entry.ts"))).toBe(true);
  });

  it("never writes outside --out, nor over the project", async () => {
    const dir = scratch();
    const plan = await planExport(join(FIXTURES, "kitchen"));
    expect(() =>
      writeExport({ ...plan, files: [{ path: "../escape.txt", contents: "x" }] }, join(dir, "out")),
    ).toThrow(/outside/);
    expect(existsSync(join(dir, "escape.txt"))).toBe(false);
    const project = join(dir, "project");
    cpSync(join(FIXTURES, "kitchen"), project, { recursive: true });
    await expect(exportProject(project, dir, { force: true })).rejects.toThrow(/holds the project/);
    // An --out inside the project is fine, and is not exported into itself.
    await exportProject(project, join(project, "dist"));
    const again = await exportProject(project, join(project, "dist"), { force: true });
    expect(again.files.some((f) => f.path.startsWith("dist/"))).toBe(false);
  });
});

describe("the exported shard function", () => {
  it("puts every key on the shard Terrarium's Router picks", async () => {
    const out = mkdtempSync(join(tmpdir(), "terrarium-shard-export-"));
    await exportProject(join(REPO, "resources", "samples", "aidevos"), out, { force: true });
    const exported = (await import(
      pathToFileURL(join(out, "src", "terrarium", "sharding.ts")).href
    )) as typeof import("../../../runtime/shared/sharding.ts");
    const router = await import("../../../runtime/shared/sharding.ts");
    for (const shards of [1, 2, 3, 4, 16]) {
      for (let i = 0; i < 500; i++) {
        const key = i % 7 === 0 ? `ключ-${i}` : `user-${i}`;
        expect(exported.shardOf(key, shards)).toBe(router.shardOf(key, shards));
      }
    }
    expect(exported.shardObjectName("main", "{name}#{shard}", 2)).toBe(
      router.shardObjectName("main", "{name}#{shard}", 2),
    );
    rmSync(out, { recursive: true, force: true });
  });
});
