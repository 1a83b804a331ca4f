import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportProject } from "../../runtime/export/exporter.ts";
import { linkToolchain, runCheck } from "../../runtime/export/validate.ts";

/**
 * The export of a project of several Workers (`-c`), built by the real
 * toolchain: the shop-orders project (a shop Worker and a fulfilment Worker
 * joined by a queue, a service binding and a workflow) is exported, and
 * `wrangler deploy --dry-run` builds each Worker's folder as a user deploys
 * it (the project's at the top, the other under `workers/<name>/`, each with
 * its own `npm install`).
 */
const SHOP = resolve(import.meta.dirname, "..", "real-world", "projects", "shop-orders");
const TIMEOUT_MS = 180_000;

describe("the export of a project of several Workers", () => {
  let root: string;
  let out: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "terrarium-export-workers-"));
    out = join(root, "out");
    await exportProject(SHOP, out, {
      workers: [join(SHOP, "fulfilment", "wrangler.jsonc")],
      configPath: join(SHOP, "wrangler.jsonc"),
    });
    linkToolchain(out);
    linkToolchain(join(out, "workers", "fulfilment"));
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(
    "builds each Worker's folder with wrangler deploy --dry-run, with the bindings it was configured with",
    async () => {
      const folders = [
        { dir: out, bindings: ["ORDERS", "ORDER_QUEUE", "FULFILMENT"] },
        { dir: join(out, "workers", "fulfilment"), bindings: ["ORDERS", "SHIPPING"] },
      ];
      for (const f of folders) {
        const dist = join(root, f.dir === out ? "dist-shop" : "dist-fulfilment");
        const r = await runCheck("dry-run", f.dir, { distDir: dist });
        expect(r.output).toContain("--dry-run: exiting now.");
        expect(r.code, r.output).toBe(0);
        for (const b of f.bindings) expect(r.output, `${f.dir}: ${b}`).toContain(b);
      }
      // wrangler wrote the bundle it would upload: the fulfilment Worker's exports its workflow class.
      const dist = join(root, "dist-fulfilment");
      const bundles = readdirSync(dist).filter((f) => f.endsWith(".js"));
      expect(bundles).toHaveLength(1);
      expect(readFileSync(join(dist, bundles[0]!), "utf8")).toMatch(/export \{[^}]*\bShipping\b/);
    },
    TIMEOUT_MS,
  );
});
