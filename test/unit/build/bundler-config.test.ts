import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleProject } from "../../../runtime/build/bundler.ts";
import { loadWranglerConfig } from "../../../runtime/config/wrangler.ts";

/** wrangler's bundling fields, `define` and `alias`, as esbuild gets them from wrangler. */
describe("define and alias in the wrangler config", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "terrarium-bundle-config-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function load(
    name: string,
    files: Record<string, string>,
    config: object,
  ): Promise<Record<string, unknown>> {
    const dir = join(root, name);
    for (const [path, contents] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), contents);
    }
    writeFileSync(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({ name, main: "src/index.ts", compatibility_date: "2025-04-01", ...config }),
    );
    const bundle = await bundleProject(loadWranglerConfig(dir), join(dir, ".build"));
    return (await import(bundle.path)) as Record<string, unknown>;
  }

  it("replaces what define names, before Terrarium's hidden globals", async () => {
    const m = await load(
      "define",
      {
        "src/index.ts":
          "declare const BUILD: string; declare const process: { env: { MODE: string } };\n" +
          "export const build = BUILD; export const mode = process.env.MODE;",
      },
      { define: { BUILD: '"v1"', "process.env.MODE": '"production"' } },
    );
    expect([m.build, m.mode]).toEqual(["v1", "production"]);
  });

  it("bundles an aliased package as its target, a relative target from the config's folder", async () => {
    const m = await load(
      "alias",
      {
        "src/index.ts": 'import { name } from "some-package"; export { name };',
        "shims/some-package.ts": 'export const name = "the shim";',
      },
      { alias: { "some-package": "./shims/some-package.ts" } },
    );
    expect(m.name).toBe("the shim");
  });
});
