import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadProject } from "../../../runtime/config/project.ts";
import { addClassFromTemplate } from "../../../runtime/templates/add-class.ts";
import { listTemplates } from "../../../runtime/templates/templates.ts";

const SAMPLE = resolve(import.meta.dirname, "..", "..", "..", "resources", "samples", "counter");
const roots: string[] = [];

function copyOfSample(): string {
  const root = mkdtempSync(join(tmpdir(), "terrarium-add-class-"));
  roots.push(root);
  const dir = join(root, "project");
  cpSync(SAMPLE, dir, { recursive: true, filter: (src) => !src.includes(".terrarium") });
  return dir;
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), "utf8");

afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe("adding a class from a template", () => {
  it("writes the class, its export, binding, migration, kind, routes and subscriptions", () => {
    const dir = copyOfSample();
    const before = read(dir, "wrangler.jsonc");
    const result = addClassFromTemplate(dir, {
      template: "analytics",
      className: "Metrics",
      binding: "METRICS",
    });

    expect(result.files).toEqual(["src/metrics.ts", "wrangler.jsonc", "terrarium.json", "src/index.ts"]);
    expect(read(dir, "src/metrics.ts")).toMatch(/^export class Metrics extends DurableObject\b/m);
    expect(read(dir, "src/metrics.ts")).not.toMatch(/\bclass Analytics\b/);
    expect(read(dir, "src/index.ts").trimEnd().split("\n").at(-1)).toBe(
      'export { Metrics } from "./metrics";',
    );
    // The wrangler config keeps its comments: edited, not rewritten.
    const wrangler = read(dir, "wrangler.jsonc");
    expect(wrangler).toContain("// A small project in the shape of Cloudflare's");
    expect(wrangler.length).toBeGreaterThan(before.length);

    const project = loadProject(dir);
    expect(project.wrangler.durableObjects.map((b) => [b.binding, b.className])).toEqual([
      ["COUNTER", "Counter"],
      ["METRICS", "Metrics"],
    ]);
    expect(project.wrangler.migrations.at(-1)).toMatchObject({ tag: "v2", newSqliteClasses: ["Metrics"] });
    expect(project.terrarium.classes?.["Metrics"]).toEqual({ kind: "Analytics" });
    expect(project.terrarium.routes).toEqual([
      { pattern: "/analytics/events", binding: "METRICS", object: "main" },
    ]);
    expect(project.terrarium.subscriptions).toEqual([
      { topic: "*", binding: "METRICS", object: "main", method: "ingest" },
    ]);
  });

  it("gives a project an Event Bus when the class publishes, and says which env bindings it still lacks", () => {
    const dir = copyOfSample();
    const result = addClassFromTemplate(dir, {
      template: "authentication",
      className: "Auth",
      binding: "AUTH",
    });
    expect(loadProject(dir).eventBusBinding).toBe("EVENTS");
    expect(result.notes).toEqual(["Auth reads env.USERS, which this project does not bind yet"]);
  });

  it("refuses a class or binding the project already has, and changes nothing", () => {
    const dir = copyOfSample();
    const files = ["wrangler.jsonc", "src/index.ts"].map((f) => read(dir, f));
    expect(() =>
      addClassFromTemplate(dir, { template: "custom", className: "Counter", binding: "X" }),
    ).toThrow("already has a class Counter");
    expect(() =>
      addClassFromTemplate(dir, { template: "custom", className: "X", binding: "COUNTER" }),
    ).toThrow("env.COUNTER is already bound");
    expect(() => addClassFromTemplate(dir, { template: "nope", className: "X", binding: "X" })).toThrow(
      'no template "nope"',
    );
    expect(["wrangler.jsonc", "src/index.ts"].map((f) => read(dir, f))).toEqual(files);
    expect(existsSync(join(dir, "terrarium.json"))).toBe(false);
  });

  it("puts every file back when the result does not load", () => {
    const dir = copyOfSample();
    const custom = listTemplates().find((t) => t.id === "custom")!;
    const broken = { ...custom, routes: [{ pattern: "no-slash", object: "{name}" }] };
    const files = ["wrangler.jsonc", "src/index.ts"].map((f) => read(dir, f));
    expect(() =>
      addClassFromTemplate(dir, { template: "custom", className: "Notes", binding: "NOTES" }, [broken]),
    ).toThrow();
    expect(["wrangler.jsonc", "src/index.ts"].map((f) => read(dir, f))).toEqual(files);
    expect(existsSync(join(dir, "terrarium.json"))).toBe(false);
    expect(existsSync(join(dir, "src", "notes.ts"))).toBe(false);
  });

  it("appends to a wrangler.toml", () => {
    const root = mkdtempSync(join(tmpdir(), "terrarium-add-class-"));
    roots.push(root);
    mkdirSync(join(root, "src"));
    writeFileSync(
      join(root, "wrangler.toml"),
      '# my worker\nname = "t"\nmain = "src/index.ts"\ncompatibility_date = "2025-04-01"\n',
    );
    writeFileSync(join(root, "src", "index.ts"), "export default { fetch: () => new Response('hi') };\n");
    addClassFromTemplate(root, { template: "notification", className: "Notifier", binding: "NOTIFIER" });
    const toml = read(root, "wrangler.toml");
    expect(toml.startsWith("# my worker\n")).toBe(true);
    const project = loadProject(root);
    expect(project.wrangler.durableObjects).toEqual([{ binding: "NOTIFIER", className: "Notifier" }]);
    expect(project.wrangler.migrations).toMatchObject([{ tag: "v1", newSqliteClasses: ["Notifier"] }]);
  });
});
