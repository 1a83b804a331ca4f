import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProject } from "../../runtime/config/project.ts";
import { loadWranglerConfig } from "../../runtime/config/wrangler.ts";
import { exportProject, planExport } from "../../runtime/export/exporter.ts";
import { linkToolchain, runCheck } from "../../runtime/export/validate.ts";
import {
  PROJECTS_DIR,
  readSteps,
  recordProject,
  runScript,
  startTerrarium,
  startWorkerd,
} from "../fidelity/harness.ts";
import { KNOWN_GAPS } from "../fidelity/known-gaps.ts";

/**
 * The export, validated against the real toolchain: every sample and every
 * fidelity project is exported, type-checked against
 * @cloudflare/workers-types, built by `wrangler deploy --dry-run`, and the
 * bundle wrangler built is served by workerd (Miniflare) and must answer the
 * project's request script as `terrarium serve` answers it on the original.
 */
const REPO = resolve(import.meta.dirname, "..", "..");
const SAMPLES_DIR = join(REPO, "resources", "samples");
const TIMEOUT_MS = 120_000;

/** Projects whose Terrarium answers differ from workerd's (test/fidelity/known-gaps.ts): compare with workerd. */
const WORKERD_REFERENCE = new Set(Object.keys(KNOWN_GAPS));

function dirs(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(root, e.name))
    .sort();
}

/** Fixtures that exercise the generated entry: a WorkerEntrypoint default export behind routes and the bus. */
const FIXTURES = ["entrypoint"].map((f) => join(REPO, "test", "fixtures", f));

/**
 * A project whose main lies outside its folder is a variant that runs another
 * project's code under another date or flag (ws-close-auto runs ws-close's):
 * the exporter rightly refuses it, and the export of the project that owns
 * the code covers that code. The fidelity suite runs the variants under workerd.
 */
const ownsItsCode = (dir: string): boolean => {
  const { hasWorker, main } = loadWranglerConfig(dir);
  return !hasWorker || !relative(dir, main).startsWith("..");
};

const projects = [...dirs(SAMPLES_DIR), ...dirs(PROJECTS_DIR).filter(ownsItsCode), ...FIXTURES].map(
  (dir) => ({
    name: `${dir.startsWith(SAMPLES_DIR) ? "sample" : dir.startsWith(PROJECTS_DIR) ? "fidelity" : "fixture"}/${dir.split("/").pop()!}`,
    dir,
  }),
);

describe.each(projects)("export: $name", ({ name, dir }) => {
  let root: string;
  let out: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "terrarium-export-"));
    out = join(root, "out");
    await exportProject(dir, out);
    // What `npm install` gives a user: the toolchain the export names.
    linkToolchain(out);
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("is repeatable: the same project gives the same files", async () => {
    const [a, b] = await Promise.all([planExport(dir), planExport(dir)]);
    expect(b.files).toEqual(a.files);
  });

  // An assets-only project (no Worker) exports no TypeScript and no tsconfig.json.
  it.skipIf(!loadProject(dir).wrangler.hasWorker)(
    "type-checks against @cloudflare/workers-types",
    async () => {
      const r = await runCheck("typecheck", out);
      expect(r.output).toBe("");
      expect(r.code).toBe(0);
    },
    TIMEOUT_MS,
  );

  it(
    "builds with wrangler deploy --dry-run and answers its script under workerd as under terrarium serve",
    async () => {
      const dist = join(root, "dist");
      const r = await runCheck("dry-run", out, { distDir: dist });
      expect(r.output).toContain("--dry-run: exiting now.");
      expect(r.code).toBe(0);
      // A project run with --env or several Workers (fidelity.json) is compared in export-env.test.ts.
      if (!existsSync(join(dir, "requests.json")) || existsSync(join(dir, "fidelity.json"))) return;
      const steps = await readSteps(dir);
      const server = await startWorkerd(out, { scriptPath: join(dist, "entry.js") });
      let exported;
      try {
        exported = await runScript(server, steps);
      } finally {
        await server.stop();
      }
      const base = name.split("/")[1]!;
      const reference = await recordProject(WORKERD_REFERENCE.has(base) ? startWorkerd : startTerrarium, dir);
      expect(exported).toEqual(reference);
    },
    TIMEOUT_MS,
  );
});

describe("the exported Event Bus", () => {
  const fixture = join(REPO, "test", "fixtures", "bus");
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "terrarium-export-bus-"));
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Publishes from objects and from the entry, then waits until both subscribers have everything. */
  async function drive(
    url: string,
    label: string,
  ): Promise<{ log: unknown[]; entryLog: unknown[]; flaky: unknown }> {
    const post = async (path: string): Promise<unknown> =>
      (await fetch(url + path, { method: "POST" })).json();
    expect(await post("/publish/a/3")).toEqual([1, 2, 3]);
    expect(await post("/publish/b/1")).toEqual([4]);
    expect(await post("/entry-publish/a")).toEqual({ id: 5 });
    const get = async (path: string): Promise<unknown> => (await fetch(url + path)).json();
    const deadline = Date.now() + 20_000;
    for (;;) {
      const log = (await get("/log/a")) as unknown[];
      const flaky = (await get("/flaky")) as { order: number[] };
      if (log.length === 4 && flaky.order.length === 4) {
        return { log, entryLog: (await get("/log/b")) as unknown[], flaky };
      }
      if (Date.now() > deadline)
        throw new Error(`deliveries incomplete under ${label}: ${JSON.stringify({ flaky })}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  function withoutTimes(events: unknown[]): unknown[] {
    return events.map((e) => {
      const { publishedAt, ...rest } = e as { publishedAt: unknown };
      expect(typeof publishedAt).toBe("number");
      return rest;
    });
  }

  it(
    "delivers under workerd as Terrarium does: every event, in order, retried, with its publisher",
    async () => {
      const out = join(root, "out");
      await exportProject(fixture, out);
      linkToolchain(out);
      const built = await runCheck("dry-run", out, { distDir: join(root, "dist") });
      expect(built.code).toBe(0);

      const server = await startWorkerd(out, { scriptPath: join(root, "dist", "entry.js") });
      let exported;
      try {
        exported = await drive(server.url, "workerd");
      } finally {
        await server.stop();
      }
      const terrarium = await startTerrarium(fixture);
      let original;
      try {
        original = await drive(terrarium.url, "terrarium serve");
      } finally {
        await terrarium.stop();
      }

      const log = withoutTimes(exported.log);
      expect(log.map((e) => (e as { id: number }).id)).toEqual([1, 2, 3, 5]);
      expect(log[0]).toMatchObject({
        topic: "note.created",
        data: { room: "a", i: 0 },
        publisher: { className: "Publisher", name: "a" },
      });
      expect(log[3]).toMatchObject({ topic: "note.entry", publisher: null });
      // The flaky subscriber failed each first attempt and still saw every event once, in order.
      expect(exported.flaky).toEqual({ order: [1, 2, 3, 4], tries: { 1: 2, 2: 2, 3: 2, 4: 2 } });
      expect(log).toEqual(withoutTimes(original.log));
      expect(withoutTimes(exported.entryLog)).toEqual(withoutTimes(original.entryLog));
      expect(exported.flaky).toEqual(original.flaky);
    },
    TIMEOUT_MS,
  );
});
