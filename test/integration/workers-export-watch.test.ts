import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../../runtime/engine.ts";
import { exportProject } from "../../runtime/export/exporter.ts";
import { controlApi } from "../../runtime/api/control-api.ts";
import { FIXTURES, request, until } from "../helpers/project.ts";

/**
 * The workers fixture with its back Worker moved beside the project folder
 * (`serve -c front/wrangler.jsonc -c back/wrangler.jsonc`), so the back
 * Worker's folder is not inside the project's.
 */
function siblings(): { root: string; front: string; back: string } {
  const root = mkdtempSync(join(tmpdir(), "terrarium-workers-"));
  const front = join(root, "front");
  const back = join(root, "back");
  cpSync(join(FIXTURES, "workers"), front, { recursive: true, filter: (s) => !s.includes("/back") });
  cpSync(join(FIXTURES, "workers", "back"), back, { recursive: true });
  return { root, front, back };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("several Workers: export and live updates", () => {
  it("exports every Worker, each under workers/<name>/, with one dev script running them all", async () => {
    const { root, front, back } = siblings();
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const out = join(root, "out");
    const plan = await exportProject(front, out, {
      workers: [join(back, "wrangler.jsonc")],
      configPath: join(front, "wrangler.jsonc"),
    });
    const paths = plan.files.map((f) => f.path);
    expect(paths).toContain("wrangler.jsonc");
    expect(paths).toContain("workers/back/wrangler.jsonc");
    expect(paths).toContain("workers/back/src/index.ts");
    expect(paths).toContain("workers/back/package.json");
    const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8")) as { scripts: { dev: string } };
    expect(pkg.scripts.dev).toBe("wrangler dev -c wrangler.jsonc -c workers/back/wrangler.jsonc");
    expect(readFileSync(join(out, "README.md"), "utf8")).toContain(
      "(cd workers/back && npm install && npm run deploy)",
    );
    expect(readFileSync(join(out, "workers", "back", "wrangler.jsonc"), "utf8")).toContain('"name": "back"');
  });

  it("watches another Worker's folder outside the project's, and the UI's export plan holds every Worker", async () => {
    const { root, front, back } = siblings();
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const engine = await Engine.open({
      projectDir: front,
      dataDir: join(root, "data"),
      configs: [join(front, "wrangler.jsonc"), join(back, "wrangler.jsonc")],
      lifecycle: { poolSize: 1 },
    });
    cleanups.push(async () => void (await engine.close()));
    expect((await request(engine, "GET", "/")).json).toMatchObject({ back: "back", sum: 3 });
    engine.watch();
    const src = join(back, "src", "index.ts");
    writeFileSync(src, readFileSync(src, "utf8").replace("return a + b;", "return a + b + 100;"));
    await until(
      async () => ((await request(engine, "GET", "/")).json as { sum?: number }).sum === 103,
      "the back Worker's change to serve",
    );
    const plan = await controlApi(engine).exportPlan();
    expect(plan.files.map((f) => f.path)).toContain("workers/back/wrangler.jsonc");
  });
});
