import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { enginesPerTest, request, until, type TestEngine } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const engines = enginesPerTest();

function edit(project: TestEngine["project"], file: string, from: string, to: string): void {
  const path = join(project.dir, file);
  const text = readFileSync(path, "utf8");
  if (!text.includes(from)) throw new Error(`${from} not in ${file}`);
  writeFileSync(path, text.replace(from, to));
}

describe("live code updates", () => {
  it("moves live objects through Updating to the new code with no request lost and storage intact", async () => {
    const { engine, project } = await engines.open("kitchen");
    const first = await request(engine, "POST", "/count/live");
    const id = (first.json as { id: string }).id;
    // Requests keep flowing while the code changes under them.
    let stop = false as boolean;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) statuses.push((await request(engine, "POST", "/count/live")).status);
    })();
    await until(() => statuses.length >= 5, "requests before the change");
    edit(
      project,
      "src/index.ts",
      "      value: v,\n      memory: this.memory,",
      "      version: 2,\n      value: v,\n      memory: this.memory,",
    );
    const result = await engine.reload();
    const atReload = statuses.length;
    await until(() => statuses.length >= atReload + 5, "requests after the change");
    stop = true;
    await traffic;
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true, error: null });
    expect(result.updated).toBeGreaterThanOrEqual(1);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const after = await request(engine, "POST", "/count/live");
    expect(after.json).toMatchObject({ version: 2, value: statuses.length + 2 });
    const states = (await controlApi(engine).transitions({ objectId: id })).map((t) => t.to);
    expect(states).toContain("Updating");
    expect(states.indexOf("Updating")).toBeLessThan(states.lastIndexOf("Active"));
  });

  it("refuses code that does not compile, with file:line, and keeps serving the old code", async () => {
    const { engine, project } = await engines.open("kitchen");
    await request(engine, "POST", "/count/safe");
    edit(project, "src/index.ts", "export class Fragile", "export class Fragile {{{");
    const result = await engine.reload();
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/^src\/index\.ts:\d+:\d+: /);
    // The same place, structured, for the editor's marker: the line of the broken declaration.
    const line = readFileSync(join(project.dir, "src/index.ts"), "utf8")
      .split("\n")
      .findIndex((l) => l.includes("export class Fragile {{{"));
    expect(result.location).toMatchObject({ file: "src/index.ts", line: line + 1 });
    expect(result.error).toContain(`src/index.ts:${line + 1}:${result.location!.column}: `);
    expect((await request(engine, "POST", "/count/safe")).json).toMatchObject({ value: 2 });
  });

  it("refuses a constructor that throws on the new code, and keeps serving", async () => {
    const { engine, project } = await engines.open("kitchen");
    await request(engine, "POST", "/count/ctor");
    edit(
      project,
      "src/index.ts",
      "export class KvCounter extends DurableObject<Env> {\n  memory = 0;",
      'export class KvCounter extends DurableObject<Env> {\n  memory = (() => { throw new Error("broken constructor"); })();',
    );
    const result = await engine.reload();
    expect(result.ok).toBe(false);
    expect(result.error).toContain("broken constructor");
    expect((await request(engine, "POST", "/count/ctor")).json).toMatchObject({ value: 2 });
  });

  it("watches the project and applies a saved change", async () => {
    const { engine, project } = await engines.open("kitchen");
    engine.watch();
    const updates: boolean[] = [];
    engine.events.on("update", (u) => updates.push(u.ok));
    edit(
      project,
      "src/index.ts",
      'return new Response("not found", { status: 404 });',
      'return new Response("nothing here", { status: 404 });',
    );
    await until(() => updates.length > 0, "an Updating transition");
    expect(updates[0]).toBe(true);
    expect((await request(engine, "GET", "/nope")).body).toBe("nothing here");
  });
});
