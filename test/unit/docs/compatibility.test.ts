import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runInNewContext } from "node:vm";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProjectError } from "../../../runtime/config/errors.ts";
import { loadWranglerConfig } from "../../../runtime/config/wrangler.ts";
import { CLOUDFLARE_MODULES } from "../../../runtime/workers-api/modules.ts";
import { openEngine, request } from "../../helpers/project.ts";

/**
 * docs/compatibility.md against the code: workerd's global scope (from
 * workerd itself, through Miniflare) must be listed in full, each global's
 * status must match what a project sees in a Terrarium worker, the module
 * table must match the bundler's module map and each module's exports, and
 * the config table must match what the config reader accepts or refuses.
 */

const DOC = resolve(import.meta.dirname, "..", "..", "..", "docs", "compatibility.md");
/** The compatibility date the doc's globals table describes. */
const DOC_DATE = "2025-09-01";
const STATUSES = ["supported", "partly", "not yet"];

type Row = string[];

/** The rows of the first table under `## <heading>`, each cell trimmed and backticks removed. */
function table(heading: string): Row[] {
  const text = readFileSync(DOC, "utf8");
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/compatibility.md has no "## ${heading}" section`);
  const end = text.indexOf("\n## ", start + 1);
  const lines = text
    .slice(start, end < 0 ? undefined : end)
    .split("\n")
    .filter((l) => l.startsWith("|"));
  return lines.slice(2).map((l) =>
    l
      .slice(1, -1)
      .split("|")
      .map((c) => c.trim().replace(/`/g, "")),
  );
}

const globals = table("Globals");
const nodeGlobals = table("Node.js globals");
const modules = table("`cloudflare:*` modules");
const config = table("wrangler config fields");

/** workerd's global names at DOC_DATE, less the ECMAScript built-ins V8 puts in every context. */
async function workerdGlobals(): Promise<string[]> {
  const script = `export default { fetch() {
    const names = new Set(); let p = globalThis;
    while (p && p !== Object.prototype) { Object.getOwnPropertyNames(p).forEach((n) => names.add(n)); p = Object.getPrototypeOf(p); }
    names.delete("constructor");
    return Response.json([...names]);
  } };`;
  const mf = new Miniflare({ modules: true, script, compatibilityDate: DOC_DATE });
  try {
    const names = (await (await mf.dispatchFetch("http://localhost/")).json()) as string[];
    const ecmascript = new Set(runInNewContext("Object.getOwnPropertyNames(globalThis)") as string[]);
    return names.filter((n) => !ecmascript.has(n)).sort();
  } finally {
    await mf.dispose();
  }
}

describe("docs/compatibility.md", () => {
  it("uses only the known statuses", () => {
    for (const row of [...globals, ...modules, ...config])
      expect(STATUSES, row.join(" | ")).toContain(row[1]);
    for (const row of nodeGlobals) {
      expect(["hidden", "present"]).toContain(row[1]);
      expect(["hidden", "present"]).toContain(row[2]);
    }
  });

  it("lists every global workerd has, and nothing workerd lacks", async () => {
    const names = globals.map((r) => r[0]!);
    expect(new Set(names).size, "no global is listed twice").toBe(names.length);
    const workerd = await workerdGlobals();
    expect(
      workerd.filter((n) => !names.includes(n)),
      "workerd globals missing from the table",
    ).toEqual([]);
    // WeakRef and FinalizationRegistry are ECMAScript, listed for their compatibility date.
    const extra = names.filter(
      (n) => !workerd.includes(n) && n !== "WeakRef" && n !== "FinalizationRegistry",
    );
    expect(extra, "rows for globals workerd does not have").toEqual([]);
  }, 30_000);

  it("lists the module map's cloudflare:* modules, and nothing else", () => {
    expect(modules.map((r) => r[0]).sort()).toEqual(Object.keys(CLOUDFLARE_MODULES).sort());
  });

  describe("against a project in Terrarium's workers", () => {
    let root: string;
    let plain: Record<string, unknown>;
    let compat: Record<string, unknown>;

    /** Source that answers `typeof X` for each name, written out so the bundler sees each one. */
    function typeofSource(names: string[]): string {
      return names.map((n) => `  ${JSON.stringify(n)}: typeof ${n},`).join("\n");
    }

    async function run(name: string, flags: string[]): Promise<Record<string, unknown>> {
      const dir = join(root, name);
      mkdirSync(join(dir, "src"), { recursive: true });
      const imports = Object.keys(CLOUDFLARE_MODULES).map((m, i) => `import * as m${i} from "${m}";`);
      const moduleKeys = Object.keys(CLOUDFLARE_MODULES).map(
        (m, i) => `  ${JSON.stringify(m)}: Object.keys(m${i}).sort(),`,
      );
      writeFileSync(
        join(dir, "src", "index.ts"),
        [
          ...imports,
          "export default { fetch() { return Response.json({",
          "globals: {",
          typeofSource(globals.map((r) => r[0]!)),
          "},",
          "node: {",
          typeofSource(nodeGlobals.map((r) => r[0]!)),
          "},",
          "modules: {",
          ...moduleKeys,
          "},",
          "}); } };",
        ].join("\n"),
      );
      writeFileSync(
        join(dir, "wrangler.jsonc"),
        JSON.stringify({
          name,
          main: "src/index.ts",
          compatibility_date: DOC_DATE,
          compatibility_flags: flags,
        }),
      );
      const engine = await openEngine(dir, join(dir, ".data"));
      try {
        const r = await request(engine, "GET", "/");
        expect(r.status, r.body).toBe(200);
        return r.json as Record<string, unknown>;
      } finally {
        await engine.close();
      }
    }

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), "terrarium-compat-doc-"));
      [plain, compat] = await Promise.all([run("plain", []), run("compat", ["nodejs_compat"])]);
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it("finds each supported or partly global, and no 'not yet' one", () => {
      const seen = plain.globals as Record<string, string>;
      const wrong = globals.filter(
        ([name, status]) => (seen[name!] === "undefined") !== (status === "not yet"),
      );
      expect(
        wrong.map(([name, status]) => `${name}: the doc says ${status}, a worker sees typeof ${seen[name!]}`),
      ).toEqual([]);
    });

    it("hides and shows Node's globals as the Node.js table says", () => {
      const wrong: string[] = [];
      for (const [name, without, withCompat] of nodeGlobals) {
        for (const [label, expected, seen] of [
          ["without", without, (plain.node as Record<string, string>)[name!]],
          ["with", withCompat, (compat.node as Record<string, string>)[name!]],
        ] as const) {
          if ((seen === "undefined") !== (expected === "hidden"))
            wrong.push(
              `${name} ${label} nodejs_compat: the doc says ${expected}, a worker sees typeof ${seen}`,
            );
        }
      }
      expect(wrong).toEqual([]);
    });

    it("gives each module the exports its row lists", () => {
      const listed = Object.fromEntries(
        modules.map((r) => [
          r[0],
          r[2]!
            .split(",")
            .map((e) => e.trim())
            .sort(),
        ]),
      );
      expect(plain.modules).toEqual(listed);
    });
  });

  describe("the config table against the config reader", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "terrarium-compat-config-"));
      mkdirSync(join(dir, "src"));
      writeFileSync(join(dir, "src", "index.ts"), "export default {};");
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** A valid value for each field the doc says works (the reader checks their shape). */
    const SAMPLES: Record<string, unknown> = {
      name: "sample",
      main: "src/index.ts",
      compatibility_date: DOC_DATE,
      compatibility_flags: ["nodejs_compat"],
      durable_objects: { bindings: [] },
      migrations: [],
      vars: { A: "1" },
      d1_databases: [{ binding: "DB", database_name: "db" }],
      r2_buckets: [{ binding: "BUCKET", bucket_name: "b" }],
      rules: [{ type: "Text", globs: ["**/*.md"] }],
      define: { BUILD: '"1"' },
      alias: { "some-package": "./shims/some-package.ts" },
      routes: [{ pattern: "example.com/*", zone_name: "example.com" }],
      observability: { enabled: true },
      placement: { mode: "smart" },
      kv_namespaces: [{ binding: "KV", id: "x" }],
      workflows: [{ name: "flow", binding: "FLOW", class_name: "Flow" }],
      queues: { producers: [{ binding: "JOBS", queue: "jobs" }], consumers: [{ queue: "jobs" }] },
      services: [{ binding: "BACK", service: "back" }],
      env: { staging: { vars: { A: "2" } } },
      version_metadata: { binding: "CF_VERSION_METADATA" },
      analytics_engine_datasets: [{ binding: "EVENTS", dataset: "page_views" }],
      ratelimits: [{ name: "LIMITER", namespace_id: "1001", simple: { limit: 10, period: 60 } }],
      ai: { binding: "AI" },
      send_email: [{ name: "EMAIL", allowed_destination_addresses: ["ann@example.com"] }],
      browser: { binding: "BROWSER" },
      vectorize: [{ binding: "INDEX", index_name: "i" }],
      mtls_certificates: [{ binding: "CERT", certificate_id: "c" }],
      dispatch_namespaces: [{ binding: "DISPATCH", namespace: "n" }],
      triggers: { crons: ["*/5 * * * *"] },
    };

    function open(field: string, value: unknown): unknown {
      writeFileSync(
        join(dir, "wrangler.jsonc"),
        JSON.stringify({ main: "src/index.ts", compatibility_date: DOC_DATE, [field]: value }),
      );
      try {
        loadWranglerConfig(dir);
        return "accepted";
      } catch (e) {
        return e instanceof ProjectError ? `refused ${e.field ?? "?"}: ${e.message}` : e;
      }
    }

    it.each(config.map((r) => [r[0]!, r[1]!]))("%s (%s)", (field, status) => {
      if (status === "not yet") {
        expect(open(field, [])).toMatch(new RegExp(`^refused ${field}: `));
      } else {
        expect(SAMPLES, `add a sample value for ${field}`).toHaveProperty(field);
        expect(open(field, SAMPLES[field])).toBe("accepted");
      }
    });
  });
});
