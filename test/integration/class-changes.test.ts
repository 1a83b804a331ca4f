import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/engine.ts";
import { idFromName, namespaceKey } from "../../runtime/shared/ids.ts";
import { openEngine, request, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";
import { deleteClass, renameClass } from "../../runtime/design/project-changes.ts";

const SAMPLE = resolve(import.meta.dirname, "..", "..", "resources", "samples", "counter");

let root: string;
let dir: string;
let dataDir: string;
let engine: Engine | null = null;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "terrarium-class-changes-"));
  dir = join(root, "project");
  dataDir = join(root, "data");
  cpSync(SAMPLE, dir, { recursive: true });
});

afterEach(async () => {
  await engine?.close();
  engine = null;
  rmSync(root, { recursive: true, force: true });
});

const read = (p: string): string => readFileSync(join(dir, p), "utf8");

describe("renaming a class", () => {
  it("renames it in code and config, adds the migration, and keeps every object's data", async () => {
    engine = await openEngine(dir, dataDir);
    for (let i = 0; i < 3; i++) await request(engine, "POST", "/counter/alpha/increment");
    await request(engine, "POST", "/counter/beta/increment");
    const oldId = idFromName(namespaceKey("counter-sample", "Counter"), "alpha");
    expect(engine.registry.get(oldId)?.state).not.toBe("Hibernating");
    const before = (await controlApi(engine).transitions({ objectId: oldId })).length;

    const result = await renameClass(engine, "Counter", "Tally");
    expect(result.objects).toBe(2);
    expect(result.files.sort()).toEqual(["src/index.ts", "terrarium.json", "wrangler.jsonc"]);

    const src = read("src/index.ts");
    expect(src).toContain("export class Tally extends DurableObject<Env>");
    expect(src).toContain("COUNTER: DurableObjectNamespace<Tally>;");
    expect(src).not.toMatch(/\bCounter\b/);
    const wrangler = read("wrangler.jsonc");
    expect(wrangler).toContain("// A small project in the shape"); // comments kept
    expect(wrangler).toMatch(/"class_name": "Tally"/);
    expect(wrangler).toMatch(/"renamed_classes": \[\s*\{\s*"from": "Counter",\s*"to": "Tally"\s*\}\s*\]/);
    expect(JSON.parse(read("terrarium.json")).history).toEqual([
      { op: "rename", from: "Counter", to: "Tally" },
    ]);

    // The same names reach the same data, under the new class's ids.
    expect((await request(engine, "GET", "/counter/alpha")).json).toEqual({ name: "alpha", value: 3 });
    expect((await request(engine, "GET", "/counter/beta")).json).toEqual({ name: "beta", value: 1 });
    const newId = idFromName(namespaceKey("counter-sample", "Tally"), "alpha");
    const rec = engine.registry.get(newId);
    expect(rec?.className).toBe("Tally");
    expect(engine.registry.get(oldId)).toBeUndefined();
    expect(existsSync(join(dataDir, "objects", "Counter", `${oldId}.sqlite`))).toBe(false);
    expect(existsSync(join(dataDir, "objects", "Tally", `${newId}.sqlite`))).toBe(true);
    // Its history came along, and the rename shows in it.
    const transitions = await controlApi(engine).transitions({ objectId: newId });
    expect(transitions.length).toBeGreaterThan(before);
    expect(transitions.some((t) => t.cause.includes("being renamed to Tally"))).toBe(true);
    expect((await controlApi(engine).listClasses()).map((c) => c.className)).toEqual(["Tally"]);
  });

  it("refuses a name that cannot be used and changes nothing", async () => {
    engine = await openEngine(dir, dataDir);
    await request(engine, "POST", "/counter/alpha/increment");
    const files = ["src/index.ts", "wrangler.jsonc"].map(read);
    await expect(renameClass(engine, "Counter", "class")).rejects.toThrow(/cannot name a class/);
    await expect(renameClass(engine, "Counter", "Env")).rejects.toThrow(/already uses the name Env/);
    await expect(renameClass(engine, "Nope", "Other")).rejects.toThrow(/no Durable Object class Nope/);
    expect(["src/index.ts", "wrangler.jsonc"].map(read)).toEqual(files);
    expect(existsSync(join(dir, "terrarium.json"))).toBe(false);
    // The class was opened again: its objects still serve.
    expect((await request(engine, "POST", "/counter/alpha/increment")).json).toEqual({
      name: "alpha",
      value: 2,
    });
  });
});

describe("deleting a class", () => {
  it("removes its binding and export, adds the migration, and deletes its objects", async () => {
    engine = await openEngine(dir, dataDir);
    await request(engine, "POST", "/counter/alpha/increment");
    const id = idFromName(namespaceKey("counter-sample", "Counter"), "alpha");
    const db = join(dataDir, "objects", "Counter", `${id}.sqlite`);
    expect(existsSync(db)).toBe(true);

    const result = await deleteClass(engine, "Counter");
    expect(result.objects).toBe(1);
    expect(result.notes.join("\n")).toMatch(
      /env\.COUNTER is no longer bound but is still used at src\/index\.ts:45/,
    );
    const wrangler = read("wrangler.jsonc");
    expect(wrangler).not.toMatch(/"class_name"/);
    expect(wrangler).toMatch(/"deleted_classes": \[\s*"Counter"\s*\]/);
    expect(read("src/index.ts")).toMatch(/^class Counter extends/m);
    expect(JSON.parse(read("terrarium.json")).history).toEqual([{ op: "delete", class: "Counter" }]);

    expect(engine.registry.get(id)).toBeUndefined();
    expect(existsSync(db)).toBe(false);
    expect(await controlApi(engine).listClasses()).toEqual([]);
    // The entry still runs; the binding it uses is gone, as on Cloudflare after the deploy.
    expect((await request(engine, "GET", "/counter/alpha")).status).toBe(500);
  });
});

describe("the Design panel's settings", () => {
  it("saves routes, subscriptions and timeouts to terrarium.json and applies them at once", async () => {
    writeFileSync(join(dir, "terrarium.json"), '{\n  // kept: the user\'s own comment\n  "classes": {}\n}\n');
    engine = await openEngine(dir, dataDir);
    expect((await request(engine, "GET", "/c/alpha")).status).toBe(200); // the entry's help text

    await controlApi(engine).saveSettings({
      routes: [{ pattern: "/c/:name", binding: "COUNTER", object: "{name}" }],
      classes: { Counter: { kind: "Custom", lifecycle: { idleAfterMs: 50, hibernateAfterMs: 150 } } },
    });
    const saved = read("terrarium.json");
    expect(saved).toContain("// kept: the user's own comment");
    // The route goes straight to the object's fetch(), which answers { value }.
    expect((await request(engine, "GET", "/c/alpha")).json).toEqual({ value: 0 });
    const design = await controlApi(engine).design();
    expect(design.routes).toEqual([
      { pattern: "/c/:name", method: null, binding: "COUNTER", object: "{name}" },
    ]);
    expect(design.classes[0]).toMatchObject({
      kind: "Custom",
      lifecycle: { idleAfterMs: 50, hibernateAfterMs: 150 },
      objects: 1,
    });
    // The new timeouts apply to live objects: it hibernates within moments.
    const id = idFromName(namespaceKey("counter-sample", "Counter"), "alpha");
    await until(() => engine!.registry.get(id)?.state === "Hibernating", "the object to hibernate");

    // Removing a value falls back to the default; an empty list removes the section.
    await controlApi(engine).saveSettings({
      routes: [],
      classes: { Counter: { lifecycle: { idleAfterMs: null } } },
    });
    expect(JSON.parse(read("terrarium.json").replace(/^\s*\/\/.*$/m, ""))).toEqual({
      classes: { Counter: { kind: "Custom", lifecycle: { hibernateAfterMs: 150 } } },
    });
  });

  it("refuses a route to a binding the project does not have, and leaves the file alone", async () => {
    engine = await openEngine(dir, dataDir);
    await expect(
      controlApi(engine).saveSettings({ routes: [{ pattern: "/x/:id", binding: "NOPE", object: "{id}" }] }),
    ).rejects.toThrow(/unknown Durable Object binding NOPE/);
    await expect(
      controlApi(engine).saveSettings({ routes: [{ pattern: "no-slash", binding: "COUNTER", object: "a" }] }),
    ).rejects.toThrow(/must start with \//);
    expect(existsSync(join(dir, "terrarium.json"))).toBe(false);
    // A malformed message is refused before it reaches the project.
    await expect(
      controlApi(engine).saveSettings({ lifecycle: { idleAfterMs: -5 } } as never),
    ).rejects.toThrow();
  });
});
