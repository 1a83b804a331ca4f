import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundleProject } from "../../../runtime/build/bundler.ts";
import { loadProject } from "../../../runtime/config/project.ts";

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "terrarium-cfg-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const MAIN = { "src/index.ts": "export default { fetch() { return new Response('ok') } }" };

describe("project config", () => {
  it("reads wrangler.jsonc, wrangler.json and wrangler.toml", () => {
    const jsonc = project({
      ...MAIN,
      "wrangler.jsonc": `{ // c\n "name": "a", "main": "src/index.ts", "compatibility_date": "2025-01-01", }`,
    });
    expect(loadProject(jsonc).wrangler.name).toBe("a");
    const toml = project({
      ...MAIN,
      "wrangler.toml": `name = "t"\nmain = "src/index.ts"\ncompatibility_date = "2025-01-01"\n[[durable_objects.bindings]]\nname = "C"\nclass_name = "Counter"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Counter"]\n`,
    });
    const p = loadProject(toml);
    expect(p.wrangler.durableObjects).toEqual([{ binding: "C", className: "Counter" }]);
    expect(p.wrangler.migrations[0]?.newSqliteClasses).toEqual(["Counter"]);
  });

  it("names the file, the line and column of a syntax error", () => {
    const dir = project({ ...MAIN, "wrangler.jsonc": `{\n  "name": "a",\n  "main": }` });
    expect(() => loadProject(dir)).toThrow(/^wrangler\.jsonc:3:11: invalid JSON: ValueExpected/);
  });

  it("names the field that is wrong", () => {
    const dir = project({
      ...MAIN,
      "wrangler.json": `{"main": "src/index.ts", "compatibility_date": "yesterday"}`,
    });
    expect(() => loadProject(dir)).toThrow("wrangler.json: compatibility_date: must be a date YYYY-MM-DD");
    const b = project({
      ...MAIN,
      "wrangler.json": `{"main": "src/index.ts", "compatibility_date": "2025-01-01", "durable_objects": {"bindings": [{"name": "X"}]}}`,
    });
    expect(() => loadProject(b)).toThrow(/durable_objects\.bindings\[0\]\.class_name/);
    const missing = project({
      "wrangler.json": `{"main": "src/nope.ts", "compatibility_date": "2025-01-01"}`,
    });
    expect(() => loadProject(missing)).toThrow("wrangler.json: main: entry file src/nope.ts does not exist");
  });

  it("refuses a terrarium.json that names an unknown binding", () => {
    const dir = project({
      ...MAIN,
      "wrangler.json": `{"main": "src/index.ts", "compatibility_date": "2025-01-01"}`,
      "terrarium.json": `{"routes": [{"pattern": "/x", "binding": "NOPE", "object": "x"}]}`,
    });
    expect(() => loadProject(dir)).toThrow(
      "terrarium.json: routes[0].binding: unknown Durable Object binding NOPE",
    );
  });

  it("reports a compile error with file:line:column", async () => {
    const dir = project({
      "src/index.ts": "export default {\n  fetch() { return new Response('ok' }\n}",
      "wrangler.json": `{"main": "src/index.ts", "compatibility_date": "2025-01-01"}`,
    });
    await expect(bundleProject(loadProject(dir).wrangler, join(dir, "out"))).rejects.toThrow(
      /^src\/index\.ts:2:\d+: Expected "\)"/,
    );
  });

  it("refuses node: imports without nodejs_compat, as Cloudflare does", async () => {
    const dir = project({
      "src/index.ts":
        "import { readFileSync } from 'node:fs';\nexport default { fetch() { return new Response(String(readFileSync)) } }",
      "wrangler.json": `{"main": "src/index.ts", "compatibility_date": "2025-01-01"}`,
    });
    await expect(bundleProject(loadProject(dir).wrangler, join(dir, "out"))).rejects.toThrow(/nodejs_compat/);
  });
});

describe("project start", () => {
  it("refuses to start when a bound class is not exported, naming the binding", async () => {
    const { Engine } = await import("../../../runtime/engine.ts");
    const dir = project({
      ...MAIN,
      "wrangler.json": `{"main": "src/index.ts", "compatibility_date": "2025-01-01", "durable_objects": {"bindings": [{"name": "G", "class_name": "Ghost"}]}}`,
    });
    await expect(Engine.open({ projectDir: dir, dataDir: join(dir, ".t") })).rejects.toThrow(
      "wrangler.json: durable_objects.bindings[0].class_name: class Ghost is not exported by src/index.ts; add `export class Ghost`",
    );
  });
});
