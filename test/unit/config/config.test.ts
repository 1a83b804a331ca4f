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

describe("assets config", () => {
  const config = (extra: string, main = '"main": "src/index.ts", ') =>
    `{${main}"compatibility_date": "2025-06-01", ${extra}}`;

  it("resolves the folder and splits run_worker_first into the Worker's rules and the `!` ones", () => {
    const dir = project({
      ...MAIN,
      "public/index.html": "<h1>hi</h1>",
      "wrangler.json": config(
        `"assets": {"directory": "./public", "binding": "ASSETS", "run_worker_first": ["/api/*", "!/api/docs/*"]}`,
      ),
    });
    const w = loadProject(dir).wrangler;
    expect(w.hasWorker).toBe(true);
    expect(w.assets).toEqual({
      directory: join(dir, "public"),
      binding: "ASSETS",
      htmlHandling: "auto-trailing-slash",
      notFoundHandling: "none",
      runWorkerFirst: { worker: ["/api/*"], assets: ["/api/docs/*"] },
    });
  });

  it("loads an assets-only project (no main)", () => {
    const dir = project({
      "public/index.html": "<h1>hi</h1>",
      "wrangler.json": config(`"assets": {"directory": "public"}`, ""),
    });
    const w = loadProject(dir).wrangler;
    expect(w.hasWorker).toBe(false);
    expect(w.assets?.directory).toBe(join(dir, "public"));
  });

  it("refuses bad assets config with a ProjectError naming the field", () => {
    const cases: [string, string][] = [
      [config(`"assets": {"binding": "ASSETS"}`), "wrangler.json: assets.directory: required"],
      [config(`"assets": {"directory": "./nope"}`), "wrangler.json: assets.directory: ./nope does not exist"],
      [
        config(`"assets": {"directory": "./public", "html_handling": "sometimes"}`),
        "wrangler.json: assets.html_handling:",
      ],
      [
        config(`"assets": {"directory": "./public", "run_worker_first": ["api/*"]}`),
        'wrangler.json: assets.run_worker_first[0]: rule "api/*" must start with "/"',
      ],
      [
        config(`"assets": {"directory": "./public", "binding": "ASSETS"}`, ""),
        "wrangler.json: assets.binding: an assets-only Worker (no `main`) has no env to bind",
      ],
      [
        config(`"assets": {"directory": "./public", "run_worker_first": true}`, ""),
        "wrangler.json: assets.run_worker_first: there is no Worker to run first",
      ],
      [config(`"assets": {"directory": "./public", "serve": true}`), "wrangler.json: assets:"],
      [config("", ""), "wrangler.json: main: required"],
      [
        config(
          `"assets": {"directory": "./public"}, "durable_objects": {"bindings": [{"name": "C", "class_name": "C"}]}`,
          "",
        ),
        "wrangler.json: durable_objects.bindings: Durable Objects need a Worker",
      ],
    ];
    for (const [text, message] of cases) {
      const dir = project({ ...MAIN, "public/index.html": "<h1>hi</h1>", "wrangler.json": text });
      expect(() => loadProject(dir), text).toThrow(message);
    }
  });
});
