import { dirname, join, resolve } from "node:path";
import { ProjectError } from "../config/errors.ts";
import { loadProject, type Project } from "../config/project.ts";
import {
  assetsOnlyConfig,
  assetsOnlyPackage,
  gitignore,
  tsconfig,
  workerConfig,
  workerPackage,
} from "./config-files.ts";
import { assetsOnlyReadme, BUS_CLASS, BUS_NAMESPACE, generatedCode, readme } from "./generated.ts";
import { planMigrations, type WranglerMigration } from "./migrations.ts";
import { analyse, assetFiles, GENERATED_DIR, importPath, projectFiles, type ExportFile } from "./sources.ts";
import { writeExport } from "./write.ts";

// `terrarium export`: a project (and its other Workers) as a Cloudflare
// project of its own. The plan checks the project and gathers every file
// (copied: sources.ts; written: config-files.ts, generated.ts); write.ts
// writes it.

export { formatJson, workersTypesFor } from "./config-files.ts";
export { BUS_CLASS, BUS_NAMESPACE } from "./generated.ts";
export { GENERATED_DIR, GENERATED_FILES, type ExportFile } from "./sources.ts";
export { ExportError, writeExport } from "./write.ts";

export interface ExportPlan {
  projectName: string;
  /** Sorted by path. */
  files: ExportFile[];
  /** The migration appended to the project's own, if any. */
  addedMigration: WranglerMigration | null;
  /** Things the user should know before deploying. */
  warnings: string[];
}

/**
 * An assets-only project (no `main`) exports as it is: its assets and its
 * config, without a generated Worker (one would change which requests the
 * assets answer).
 */
function planAssetsOnly(project: Project, excluded: string | null): ExportPlan {
  const files = [
    ...assetFiles(project, excluded),
    assetsOnlyConfig(project),
    assetsOnlyPackage(project),
    gitignore(),
    { path: "README.md", contents: assetsOnlyReadme(project) },
  ];
  return { projectName: project.wrangler.name, files: byPath(files), addedMigration: null, warnings: [] };
}

function byPath(files: ExportFile[]): ExportFile[] {
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Reads the project and computes every file of its export; writes nothing. */
export async function planExport(
  projectDir: string,
  opts: {
    outDir?: string;
    env?: string | null;
    /** The project's other Workers' configs (`-c`): each exported under `workers/<name>/`. */
    workers?: readonly string[];
    /** The config to read (a `-c` path), when not the folder's own. */
    configPath?: string;
  } = {},
): Promise<ExportPlan> {
  const plan = await planOne(projectDir, opts);
  if (!opts.workers?.length) return plan;
  return withWorkers(plan, opts.workers, opts.env ?? null);
}

/**
 * Adds the project's other Workers to its export, each as the export of
 * its own folder under `workers/<name>/` (a project of its own, deployed
 * with its own `npm run deploy`); the project's `npm run dev` runs them all
 * together (`wrangler dev -c wrangler.jsonc -c workers/<name>/wrangler.jsonc`),
 * and its README says to deploy them.
 */
async function withWorkers(
  plan: ExportPlan,
  configs: readonly string[],
  env: string | null,
): Promise<ExportPlan> {
  const files = [...plan.files];
  const warnings = [...plan.warnings];
  const names: string[] = [];
  for (const config of configs) {
    const sub = await planOne(dirname(config), { env, configPath: config });
    const at = `workers/${sub.projectName}`;
    names.push(sub.projectName);
    for (const f of sub.files) files.push({ path: `${at}/${f.path}`, contents: f.contents });
    warnings.push(...sub.warnings.map((w) => `${sub.projectName}: ${w}`));
  }
  const pkg = files.find((f) => f.path === "package.json");
  if (pkg) {
    const json = JSON.parse(String(pkg.contents)) as { scripts: Record<string, string> };
    const flags = ["wrangler.jsonc", ...names.map((n) => `workers/${n}/wrangler.jsonc`)]
      .map((c) => `-c ${c}`)
      .join(" ");
    json.scripts.dev = json.scripts.dev!.replace(/^wrangler dev/, `wrangler dev ${flags}`);
    pkg.contents = `${JSON.stringify(json, null, 2)}\n`;
  }
  const readmeFile = files.find((f) => f.path === "README.md");
  if (readmeFile) {
    readmeFile.contents =
      String(readmeFile.contents) +
      [
        "",
        "## The other Workers",
        "",
        "This project ran in Terrarium with more Workers (`-c`), each exported as a",
        "project of its own under `workers/`. Deploy each before this one, since",
        "this Worker's bindings name them:",
        "",
        "```sh",
        ...names.map((n) => `(cd workers/${n} && npm install && npm run deploy)`),
        "```",
        "",
        "`npm run dev` runs them all together, as `wrangler dev -c ... -c ...`.",
        "",
      ].join("\n");
  }
  return { ...plan, files: byPath(files), warnings };
}

async function planOne(
  projectDir: string,
  opts: { outDir?: string; env?: string | null; configPath?: string },
): Promise<ExportPlan> {
  const project = loadProject(projectDir, {
    env: opts.env ?? null,
    ...(opts.configPath ? { configs: [opts.configPath] } : {}),
  });
  const w = project.wrangler;
  const excluded = opts.outDir ? resolve(opts.outDir) : null;
  if (!w.hasWorker) return planAssetsOnly(project, excluded);
  const analysis = await analyse(project);
  const files = projectFiles(project, analysis, excluded);
  const hasBus = project.eventBusBinding !== null;
  const classes = [...new Set(w.durableObjects.map((b) => b.className))];
  const { added, warnings } = checks(project, new Set(analysis.exports), classes, hasBus);
  const mainImport = importPath(join(project.dir, GENERATED_DIR), w.main);
  files.push(
    ...generatedCode(project, mainImport, classes, hasBus),
    workerConfig(
      project,
      `${GENERATED_DIR}/entry.ts`,
      hasBus ? { namespace: BUS_NAMESPACE, className: BUS_CLASS } : null,
      added,
    ),
    workerPackage(project, analysis.packages, warnings),
    tsconfig(project),
    gitignore(),
    { path: "README.md", contents: readme(project, { migration: added, hasBus }) },
  );
  return { projectName: w.name, files: byPath(files), addedMigration: added, warnings };
}

/**
 * What must hold before a Worker exports, and what its user should know:
 * the Event Bus's names are free, the migrations the export adds (for the
 * Event Bus's class, and classes Terrarium's history knows), and what
 * behaves otherwise on Cloudflare (sharding, mocks).
 */
function checks(
  project: Project,
  exported: ReadonlySet<string>,
  classes: readonly string[],
  hasBus: boolean,
): { added: WranglerMigration | null; warnings: string[] } {
  const w = project.wrangler;
  for (const name of [BUS_CLASS, BUS_NAMESPACE]) {
    if (
      hasBus &&
      (exported.has(name) || w.durableObjects.some((b) => b.binding === name) || name in w.vars)
    ) {
      throw new ProjectError(`${name} is reserved for the exported Event Bus; rename yours`);
    }
  }
  const warnings: string[] = [];
  const migrations = planMigrations({
    migrations: w.migrations,
    history: project.terrarium.history ?? [],
    needed: hasBus ? [...classes, BUS_CLASS] : [...classes],
    exported: new Set([...exported, ...(hasBus ? [BUS_CLASS] : [])]),
  });
  warnings.push(...migrations.warnings);
  if (migrations.added) {
    warnings.push(
      `added migration ${migrations.added.tag} (${JSON.stringify(migrations.added).slice(1, -1)}); ` +
        `copy it into the project's wrangler config after deploying so later exports continue from it`,
    );
  }
  for (const [className, policy] of Object.entries(project.terrarium.sharding ?? {})) {
    warnings.push(
      `${className} is sharded: on Cloudflare its routed requests spread over all ${policy.maxShards} shards ` +
        `(maxShards) at once, as Terrarium spreads them at its peak`,
    );
  }
  if (project.terrarium.mocks !== undefined) {
    warnings.push("mock endpoints are for simulation only: the export calls the real URLs");
  }
  return { added: migrations.added, warnings };
}

/** `terrarium export`: plan, then write. */
export async function exportProject(
  projectDir: string,
  outDir: string,
  opts: { force?: boolean; env?: string | null; workers?: readonly string[]; configPath?: string } = {},
): Promise<ExportPlan> {
  const plan = await planExport(projectDir, {
    outDir,
    env: opts.env ?? null,
    ...(opts.configPath ? { configPath: opts.configPath } : {}),
    ...(opts.workers?.length ? { workers: opts.workers } : {}),
  });
  writeExport(plan, outDir, { ...opts, projectDir });
  return plan;
}
