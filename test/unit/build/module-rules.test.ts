import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleProject } from "../../../runtime/build/bundler.ts";
import { DEFAULT_MODULE_RULES, effectiveRules, globToRegExp } from "../../../runtime/build/module-rules.ts";
import type { ModuleRule } from "../../../runtime/config/wrangler.ts";
import { loadWranglerConfig } from "../../../runtime/config/wrangler.ts";

/** `(i32, i32) -> i32` add, exported as "add". */
const ADD_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03,
  0x02, 0x01, 0x00, 0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20,
  0x00, 0x20, 0x01, 0x6a, 0x0b,
]);

/** WebAssembly as a value (Node's types declare only its types). */
const wasmApi = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object) => { exports: Record<string, unknown> };
    };
  }
).WebAssembly;

const rule = (type: ModuleRule["type"], globs: string[], fallthrough = false): ModuleRule => ({
  type,
  globs,
  fallthrough,
});

describe("globToRegExp (wrangler's globs)", () => {
  it.each([
    ["**/*.txt", "./hello.txt", true],
    ["**/*.txt", "hello.txt", true],
    ["**/*.txt", "../a/b/c.txt", true],
    ["**/*.txt", "./hello.txt.js", false],
    ["*.txt", "./hello.txt", false],
    ["*.txt", "hello.txt", true],
    ["**/*.wasm?module", "./add.wasm?module", true],
    ["**/*.wasm?module", "./add.wasmXmodule", false],
    ["**/*.wasm", "pkg/dist/x.wasm", true],
    ["src/**", "src/a/b.md", true],
  ])("%s against %s: %s", (glob, path, matches) => {
    expect(globToRegExp(glob).test(path)).toBe(matches);
  });
});

describe("effectiveRules", () => {
  it("puts the project's rules before wrangler's defaults", () => {
    const md = rule("Text", ["**/*.md"], true);
    expect(effectiveRules([md]).rules).toEqual([md, ...DEFAULT_MODULE_RULES]);
  });

  it("drops later rules of a type whose earlier rule does not fall through, defaults included", () => {
    const md = rule("Text", ["**/*.md"]);
    const again = rule("Text", ["**/*.csv"]);
    const { rules, ignored } = effectiveRules([md, again]);
    expect(rules.map((r) => r.globs)).toEqual([["**/*.md"], ["**/*.bin"], ["**/*.wasm", "**/*.wasm?module"]]);
    expect(ignored).toEqual([again, DEFAULT_MODULE_RULES[0]]);
  });
});

describe("bundling with module rules", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "terrarium-rules-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function project(name: string, files: Record<string, string | Uint8Array>, config: object = {}): string {
    const dir = join(root, name);
    for (const [path, contents] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), contents);
    }
    writeFileSync(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({ name, main: "src/index.ts", compatibility_date: "2025-04-01", ...config }),
    );
    return dir;
  }

  /** Bundles the project and imports the bundle here (plain Node runs it the same way a worker does). */
  async function load(dir: string): Promise<Record<string, unknown>> {
    const bundle = await bundleProject(loadWranglerConfig(dir), join(dir, ".build"));
    return (await import(bundle.path)) as Record<string, unknown>;
  }

  it("loads wrangler's default types: text as a string, .bin as an ArrayBuffer, .wasm as a WebAssembly.Module", async () => {
    const dir = project("defaults", {
      "src/index.ts": [
        'import txt from "./a.txt"; import html from "./b.html"; import sql from "./c.sql";',
        'import bin from "./d.bin"; import wasm from "./add.wasm"; import viaSuffix from "./add.wasm?module";',
        "export { txt, html, sql, bin, wasm, viaSuffix };",
      ].join("\n"),
      "src/a.txt": "text ✓",
      "src/b.html": "<p>hi</p>",
      "src/c.sql": "SELECT 1;",
      "src/d.bin": new Uint8Array([0, 255, 7]),
      "src/add.wasm": ADD_WASM,
    });
    const m = await load(dir);
    expect([m.txt, m.html, m.sql]).toEqual(["text ✓", "<p>hi</p>", "SELECT 1;"]);
    expect(m.bin).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(m.bin as ArrayBuffer)]).toEqual([0, 255, 7]);
    for (const wasm of [m.wasm, m.viaSuffix]) {
      expect(wasm).toBeInstanceOf(wasmApi.Module);
      const add = new wasmApi.Instance(wasm as object).exports.add as (a: number, b: number) => number;
      expect(add(2, 40)).toBe(42);
    }
  });

  it("applies the project's rules first, and a rule that does not fall through ends its type", async () => {
    const dir = project(
      "custom",
      {
        "src/index.ts": 'import md from "./notes.md"; import dat from "./x.dat"; export { md, dat };',
        "src/notes.md": "# notes",
        "src/x.dat": "abc",
      },
      { rules: [rule("Text", ["**/*.md"]), { type: "Data", globs: ["**/*.dat"] }] },
    );
    const m = await load(dir);
    expect(m.md).toBe("# notes");
    expect([...new Uint8Array(m.dat as ArrayBuffer)]).toEqual([97, 98, 99]);

    // The Text rule above does not fall through: .html is no longer Text, and esbuild has no loader for it.
    writeFileSync(join(dir, "src", "index.ts"), 'import page from "./a.html"; export { page };');
    writeFileSync(join(dir, "src", "a.html"), "<p></p>");
    await expect(bundleProject(loadWranglerConfig(dir), join(dir, ".build"))).rejects.toThrow(
      /No loader is configured for "\.html" files/,
    );
  });

  it("finds a package's .wasm file through node_modules", async () => {
    const dir = project("package", {
      "src/index.ts": 'import wasm from "wasm-pkg/add.wasm"; export { wasm };',
      "node_modules/wasm-pkg/package.json": JSON.stringify({ name: "wasm-pkg", version: "1.0.0" }),
      "node_modules/wasm-pkg/add.wasm": ADD_WASM,
    });
    expect((await load(dir)).wasm).toBeInstanceOf(wasmApi.Module);
  });

  it("lists the imported files among the bundle's inputs, so the watcher sees them change", async () => {
    const dir = join(root, "defaults");
    const bundle = await bundleProject(loadWranglerConfig(dir), join(dir, ".build"));
    expect(bundle.inputs).toEqual(
      expect.arrayContaining([join(dir, "src", "a.txt"), join(dir, "src", "add.wasm")]),
    );
    expect(readFileSync(bundle.path, "utf8")).not.toContain("./a.txt");
  });
});

describe("the rules field in the wrangler config", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "terrarium-rules-config-"));
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "index.ts"), "export default {};");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function read(rules: unknown): unknown {
    writeFileSync(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({ main: "src/index.ts", compatibility_date: "2025-04-01", rules }),
    );
    return loadWranglerConfig(dir).rules;
  }

  it("reads type, globs and fallthrough (false when absent)", () => {
    expect(read([{ type: "Text", globs: ["**/*.md"] }])).toEqual([
      { type: "Text", globs: ["**/*.md"], fallthrough: false },
    ]);
  });

  it("refuses an unknown type, empty globs and Python modules by field", () => {
    expect(() => read([{ type: "Json", globs: ["**/*.json"] }])).toThrow(/rules\[0\]\.type/);
    expect(() => read([{ type: "Text", globs: [] }])).toThrow(/rules\[0\]\.globs/);
    expect(() => read([{ type: "PythonModule", globs: ["**/*.py"] }])).toThrow(
      /Python Workers are not supported/,
    );
  });
});
