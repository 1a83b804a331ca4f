import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { run } from "../helpers/cli.ts";
import { PROJECTS_DIR, recordProject, startTerrarium, startWorkerd } from "../fidelity/harness.ts";

/**
 * `terrarium export --env NAME`: the exported config, read by wrangler
 * itself in that environment, is what ran; and the export, served by
 * workerd with `--env NAME` as wrangler dev reads it, answers the
 * fidelity script as `terrarium serve --env NAME` answers on the original.
 */
const project = join(PROJECTS_DIR, "environments");
let root: string;
let out: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "terrarium-export-env-"));
  out = join(root, "out");
  const r = await run(["export", project, "--env", "staging", "--out", out]);
  expect(r.code, r.output).toBe(0);
  expect(r.output).toContain("Exported envy-staging");
}, 60_000);
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("terrarium export --env", () => {
  it("writes a config that wrangler reads, in that environment, as the one that ran", () => {
    const staging = unstable_readConfig({ config: join(out, "wrangler.jsonc"), env: "staging" });
    expect(staging.name).toBe("envy-staging");
    expect(staging.vars).toEqual({ LEVEL: "staging", LIMIT: 3 });
    expect(staging.durable_objects.bindings).toEqual([{ name: "TALLY", class_name: "Counter" }]);
    expect(staging.migrations).toEqual([{ tag: "v1", new_sqlite_classes: ["Counter"] }]);
    expect(staging.main).toBe(join(out, "src", "terrarium", "entry.ts"));
    expect(staging.define).toEqual({});
    const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.deploy).toBe("wrangler deploy --env staging");
    expect(pkg.scripts.dev).toBe("wrangler dev --env staging");
    // The environment's secrets by name only, for wrangler secret put in that environment.
    const readme = readFileSync(join(out, "README.md"), "utf8");
    expect(readme).toContain(
      "npx wrangler secret put SECRET --env staging   # from your .dev.vars.staging; never exported",
    );
    expect(readme).not.toContain("from-dev-vars-staging");
  });

  it("answers the script under workerd (wrangler dev --env staging) as terrarium serve --env staging does", async () => {
    // The secrets go up with `wrangler secret put`; locally, wrangler dev reads them from .dev.vars.staging.
    copyFileSync(join(project, ".dev.vars.staging"), join(out, ".dev.vars.staging"));
    writeFileSync(join(out, "fidelity.json"), JSON.stringify({ env: "staging" }));
    copyFileSync(join(project, "requests.json"), join(out, "requests.json"));
    const exported = await recordProject(startWorkerd, out);
    const original = await recordProject(startTerrarium, project);
    expect(exported).toEqual(original);
  }, 120_000);
});
