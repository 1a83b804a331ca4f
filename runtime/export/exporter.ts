import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import {
  basename,
  dirname,
  extname,
  isAbsolute,
  join,
  parse as parsePath,
  relative,
  resolve,
  sep,
} from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { moduleRulesPlugin } from "../build/module-rules.ts";
import { ProjectError } from "../config/errors.ts";
import { environmentConfig } from "./environment.ts";
import { loadProject, type Project } from "../config/project.ts";
import { compileRoute } from "../router/routes.ts";
import { queueNames } from "../config/queues.ts";
import { planMigrations, type WranglerMigration } from "./migrations.ts";

const TEMPLATES = join(dirname(fileURLToPath(import.meta.url)), "templates");
const RUNTIME = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Where the generated code goes in the exported project. */
export const GENERATED_DIR = "src/terrarium";
/** The Durable Object class and namespace binding of the generated Event Bus. */
export const BUS_CLASS = "TerrariumEventBus";
export const BUS_NAMESPACE = "TERRARIUM_EVENT_BUS";

/** The versions the export is validated with (see package.json's devDependencies). */
const TOOL_VERSIONS = {
  "@cloudflare/workers-types": "^4.20260426.1",
  typescript: "^5.9.3",
  wrangler: "^4.86.0",
};

/** The dated entrypoints of @cloudflare/workers-types v4, oldest first. */
const TYPES_DATES = [
  "2022-01-31",
  "2022-03-21",
  "2022-08-04",
  "2022-10-31",
  "2022-11-30",
  "2023-03-01",
  "2023-07-01",
];

/** The workers-types entrypoint for a compatibility date: the newest dated one not after it. */
export function workersTypesFor(compatibilityDate: string): string {
  const date = TYPES_DATES.filter((d) => d <= compatibilityDate).pop();
  return date ? `@cloudflare/workers-types/${date}` : "@cloudflare/workers-types";
}

/** Folders that are never the project's source. */
const SKIPPED_DIRS = new Set(["node_modules", ".terrarium", ".wrangler", ".git"]);

export class ExportError extends Error {
  override name = "ExportError";
}

export interface ExportFile {
  /** Relative to the output folder, with "/" separators. */
  path: string;
  contents: string | Uint8Array;
}

export interface ExportPlan {
  projectName: string;
  /** Sorted by path. */
  files: ExportFile[];
  /** The migration appended to the project's own, if any. */
  addedMigration: WranglerMigration | null;
  /** Things the user should know before deploying. */
  warnings: string[];
}

interface Analysis {
  inputs: string[];
  exports: string[];
  packages: string[];
}

/** Bundles the project only to learn its source files, its exports and the packages it imports. */
async function analyse(project: Project): Promise<Analysis> {
  const w = project.wrangler;
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [w.main],
      bundle: true,
      write: false,
      metafile: true,
      format: "esm",
      platform: "neutral",
      packages: "external",
      external: ["cloudflare:*", "node:*"],
      mainFields: ["workerd", "worker", "browser", "module", "main"],
      conditions: ["workerd", "worker", "browser", "import"],
      outfile: join(project.dir, "__export_probe__.js"),
      logLevel: "silent",
      // Imports of text, data and wasm files resolve as the build resolves them (wrangler's rules).
      plugins: [moduleRulesPlugin(w.rules)],
      define: { ...w.define },
      alias: { ...w.alias },
      absWorkingDir: project.dir,
    });
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    const first = failure.errors?.[0];
    if (!first) throw e;
    throw new ProjectError(first.text, {
      ...(first.location ? { file: first.location.file, line: first.location.line } : {}),
    });
  }
  const output = Object.values(result.metafile.outputs)[0];
  const packages = new Set<string>();
  for (const imp of output?.imports ?? []) {
    if (!imp.external || /^(cloudflare|node):/.test(imp.path)) continue;
    const parts = imp.path.split("/");
    packages.add(imp.path.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!);
  }
  return {
    inputs: Object.keys(result.metafile.inputs).map((p) => resolve(project.dir, p)),
    exports: output?.exports ?? [],
    packages: [...packages].sort(),
  };
}

function walk(dir: string, skip: (abs: string) => boolean, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (skip(abs)) continue;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) walk(abs, skip, out);
    } else if (entry.isFile()) {
      out.push(abs);
    }
  }
}

function toPosix(p: string): string {
  return p.split(sep).join("/");
}

/**
 * The project's own files: everything its main module imports, every file
 * beside main (unless main sits at the project root), and the root's .d.ts
 * files (worker-configuration.d.ts and the like). Copied byte for byte.
 */
function sourceFiles(project: Project, analysis: Analysis, excluded: string | null): string[] {
  // Local secrets never leave the machine in an export (their names go in its README).
  const secret = (abs: string): boolean => /^(\.dev\.vars|\.env)(\.|$)/.test(basename(abs));
  const skip = (abs: string): boolean =>
    secret(abs) || (excluded !== null && (abs === excluded || abs.startsWith(excluded + sep)));
  const files = new Set<string>();
  for (const input of analysis.inputs) {
    const rel = relative(project.dir, input);
    if (rel.startsWith("..") || resolve(rel) === rel) {
      throw new ProjectError(
        `${relative(project.dir, project.wrangler.main)} imports ${input}, which is outside the project folder; ` +
          `move it into the project (or publish it as a package) so the export can carry it`,
      );
    }
    if (!skip(input)) files.add(input);
  }
  const mainDir = dirname(project.wrangler.main);
  const beside: string[] = [];
  if (mainDir !== project.dir) walk(mainDir, skip, beside);
  for (const f of beside) files.add(f);
  for (const entry of readdirSync(project.dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".d.ts")) files.add(join(project.dir, entry.name));
  }
  return [...files].sort();
}

function importPath(fromDir: string, file: string): string {
  let rel = toPosix(relative(fromDir, file));
  if (!rel.startsWith(".")) rel = `./${rel}`;
  const ext = extname(rel);
  return [".ts", ".tsx", ".js", ".jsx"].includes(ext) && !rel.endsWith(".d.ts")
    ? rel.slice(0, -ext.length)
    : rel;
}

function jsonLines(values: readonly unknown[], indent = "  "): string {
  if (values.length === 0) return "[]";
  return `[\n${values.map((v) => `${indent}${JSON.stringify(v)},`).join("\n")}\n]`;
}

function inlineJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(", ")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  return `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${inlineJson(v)}`).join(", ")} }`;
}

/** JSON as a person would indent it: a value that fits on its line stays on one line. */
export function formatJson(value: unknown, indent = ""): string {
  const inline = inlineJson(value);
  if (value === null || typeof value !== "object" || indent.length + inline.length <= 80) return inline;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(",\n")}\n${indent}}`;
}

function entrySource(project: Project, mainImport: string, classes: string[], hasBus: boolean): string {
  const t = project.terrarium;
  const classOf = new Map(project.wrangler.durableObjects.map((b) => [b.binding, b.className]));
  const routes = (t.routes ?? []).map((r) => {
    const c = compileRoute(r);
    const policy = t.sharding?.[classOf.get(r.binding) ?? ""];
    return {
      regex: c.regex.source,
      params: c.params,
      methods: c.methods ? [...c.methods] : null,
      binding: r.binding,
      object: r.object,
      ...(policy ? { shard: { key: policy.key, shards: policy.maxShards, name: policy.shardName } } : {}),
    };
  });
  const subscriptions = (t.subscriptions ?? []).map((s) => ({
    topic: s.topic,
    binding: s.binding,
    object: s.object,
    method: s.method,
  }));
  const bus = hasBus ? { binding: project.eventBusBinding, namespace: BUS_NAMESPACE } : null;
  const lines = [
    `// Generated by \`terrarium export\` from ${project.wrangler.name}: the entry Worker that does`,
    `// what terrarium.json declares. Do not edit; change the project in Terrarium`,
    `// and export again. The project's own code is in ${mainImport}.`,
    `import * as app from "${mainImport}";`,
    `import { entryFor, publishingAs, type BusSpec, type RouteSpec } from "./runtime";`,
  ];
  if (hasBus) lines.push(`import { EventBus, type Subscription } from "./event-bus";`);
  lines.push(
    "",
    `export * from "${mainImport}";`,
    "",
    "/** terrarium.json routes: a matching request goes straight to the object its template names. */",
    `const ROUTES: readonly RouteSpec[] = ${jsonLines(routes)};`,
    "",
    "/** Where user code finds the Event Bus (env[binding]) and the namespace of its Durable Object. */",
    `const BUS: BusSpec | null = ${JSON.stringify(bus)};`,
  );
  if (hasBus) {
    lines.push(
      "",
      "/** terrarium.json subscriptions: topic -> a method of the object the template names. */",
      `const SUBSCRIPTIONS: readonly Subscription[] = ${jsonLines(subscriptions)};`,
      "",
      "/** The Event Bus, with Terrarium's publish/subscribe semantics (see event-bus.ts). */",
      `export class ${BUS_CLASS} extends EventBus {`,
      "  protected readonly subscriptions = SUBSCRIPTIONS;",
      "}",
      "",
      "// The project's Durable Object classes, unchanged but for an env whose Event Bus",
      "// binding records which object published.",
      ...classes.map((c) => `export const ${c} = publishingAs(app.${c}, ${JSON.stringify(c)}, BUS);`),
    );
  }
  lines.push(
    "",
    "export default entryFor((app as unknown as { default?: unknown }).default, ROUTES, BUS);",
    "",
  );
  return lines.join("\n");
}

function readme(project: Project, plan: { migration: WranglerMigration | null; hasBus: boolean }): string {
  const w = project.wrangler;
  const d1 = w.raw.d1_databases ?? [];
  const r2 = w.raw.r2_buckets ?? [];
  const lines = [
    `# ${w.name}`,
    "",
    "A Cloudflare Workers project with Durable Objects, exported from Terrarium",
    "(`terrarium export`). Your own code is unchanged under its original paths;",
    `\`${GENERATED_DIR}/\` is generated and is the Worker's \`main\`.`,
    "",
    "## Deploy",
    "",
    "```sh",
    "npm install",
    "npx wrangler login          # once per machine",
  ];
  for (const d of d1) {
    const name = d.database_name ?? d.binding.toLowerCase();
    lines.push(`npx wrangler d1 create ${name}   # then put its database_id in wrangler.jsonc`);
  }
  for (const r of r2) lines.push(`npx wrangler r2 bucket create ${r.bucket_name ?? r.binding.toLowerCase()}`);
  for (const k of w.raw.kv_namespaces ?? [])
    lines.push(`npx wrangler kv namespace create ${k.binding}   # then put its id in wrangler.jsonc`);
  for (const q of queueNames(project.queues)) lines.push(`npx wrangler queues create ${q}`);
  const envFlagText = envFlag(project);
  const from = project.devVars.files.map((f) => basename(f)).join(", ") || ".dev.vars";
  for (const name of Object.keys(project.devVars.values).sort())
    lines.push(`npx wrangler secret put ${name}${envFlagText}   # from your ${from}; never exported`);
  lines.push(
    "npm run typecheck           # tsc against @cloudflare/workers-types",
    `npm run deploy              # wrangler deploy${envFlagText}`,
    "```",
    "",
    "`npm run dev` runs it locally under wrangler dev (workerd); `npm run types`",
    "generates `worker-configuration.d.ts` from wrangler.jsonc.",
    "",
    "## What the generated entry does",
    "",
    "- `terrarium.json` routes: a request whose path matches a route goes straight",
    "  to the Durable Object its template names (`getByName`), as in Terrarium;",
    "  anything else reaches your own default export.",
  );
  if (plan.hasBus) {
    lines.push(
      `- The Event Bus: \`env.${project.eventBusBinding}.publish(topic, data)\` works as in Terrarium.`,
      `  Events are stored in one Durable Object (\`${BUS_CLASS}\`, binding`,
      `  \`${BUS_NAMESPACE}\`) and delivered at least once, in publish order per`,
      "  subscriber, to the method each subscription names; a method that throws is",
      "  retried with backoff (an alarm resumes deliveries after a restart).",
      "  NOTE: `env` imported from `cloudflare:workers` at module scope is the",
      `  deployed env, without \`${project.eventBusBinding}\`; use the env your class or handler receives.`,
    );
  }
  for (const [className, policy] of Object.entries(project.terrarium.sharding ?? {})) {
    lines.push(
      `- Sharding: requests routed to \`${className}\` spread over ${policy.maxShards} objects by`,
      `  \`${policy.key}\` (jump consistent hashing, the same as Terrarium's Router), all of them`,
      "  at once: Cloudflare has no shared view of load to scale on, and an idle shard costs nothing.",
    );
  }
  if (plan.migration) {
    lines.push(
      "",
      "## Migrations",
      "",
      `The export added migration \`${plan.migration.tag}\` to your project's own. Copy it`,
      "into the project's wrangler config once you have deployed it, so that the",
      "next export continues from it instead of rewriting it.",
    );
  }
  if (d1.some((d) => !d.database_id)) {
    lines.push(
      "",
      "## D1",
      "",
      "A D1 binding without `database_id` deploys only after you create the",
      "database (above) and add its id.",
    );
  }
  lines.push("");
  return lines.join("\n");
}

/** Files the export writes itself, never copied from the project. */
export const GENERATED_FILES: ReadonlySet<string> = new Set([
  "wrangler.jsonc",
  "package.json",
  "tsconfig.json",
  "README.md",
  ".gitignore",
]);

/**
 * The static assets' folder, every file of it (wrangler decides what to
 * upload, by .assetsignore). The config keeps `assets` as it was, so the
 * folder must be inside the project to be found at the same path.
 */
function assetFiles(project: Project, excluded: string | null): ExportFile[] {
  const a = project.wrangler.assets;
  if (!a) return [];
  const rel = relative(project.dir, a.directory);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new ProjectError(
      "the assets folder is outside the project, and the export copies only the project folder: move it in",
      { file: basename(project.wrangler.configPath), field: "assets.directory" },
    );
  }
  const found: string[] = [];
  walk(
    a.directory,
    (abs) => excluded !== null && (abs === excluded || abs.startsWith(excluded + sep)),
    found,
  );
  return found
    .map((abs) => ({ path: toPosix(relative(project.dir, abs)), contents: readFileSync(abs) }))
    .filter((f) => !GENERATED_FILES.has(f.path));
}

/**
 * An assets-only project (no `main`) exports as it is: its assets and its
 * config, without a generated Worker (one would change which requests the
 * assets answer).
 */
function planAssetsOnly(project: Project, excluded: string | null): ExportPlan {
  const w = project.wrangler;
  const files = assetFiles(project, excluded);
  const raw: Record<string, unknown> = { ...w.raw };
  for (const k of ["$schema", "name", "main", "compatibility_date", "compatibility_flags"]) delete raw[k];
  const config: Record<string, unknown> = {
    $schema: "node_modules/wrangler/config-schema.json",
    name: w.name,
    compatibility_date: w.compatibilityDate,
  };
  if (w.compatibilityFlags.length > 0) config.compatibility_flags = [...w.compatibilityFlags];
  Object.assign(config, raw);
  files.push(
    {
      path: "wrangler.jsonc",
      contents:
        `// Generated by \`terrarium export\` from ${w.name}. Deploy with \`npm run deploy\`;\n` +
        `// see README.md.\n${formatJson(inEnvironment(project, config))}\n`,
    },
    {
      path: "package.json",
      contents: `${JSON.stringify(
        {
          name: w.name.toLowerCase().replace(/[^a-z0-9-_.]/g, "-"),
          version: "0.0.0",
          private: true,
          scripts: { dev: `wrangler dev${envFlag(project)}`, deploy: `wrangler deploy${envFlag(project)}` },
          devDependencies: { wrangler: TOOL_VERSIONS.wrangler },
        },
        null,
        2,
      )}\n`,
    },
    { path: ".gitignore", contents: "node_modules/\n.wrangler/\n" },
    {
      path: "README.md",
      contents: [
        `# ${w.name}`,
        "",
        "A Cloudflare Workers project that serves static assets only, exported from",
        "Terrarium (`terrarium export`).",
        "",
        "## Deploy",
        "",
        "```sh",
        "npm install",
        "npx wrangler login          # once per machine",
        `npm run deploy              # wrangler deploy${envFlag(project)}`,
        "```",
        "",
        "`npm run dev` serves it locally under wrangler dev.",
        "",
      ].join("\n"),
    },
  );
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { projectName: w.name, files, addedMigration: null, warnings: [] };
}

/** ` --env NAME` for the scripts of a project exported from a named environment. */
function envFlag(project: Project): string {
  return project.env ? ` --env ${project.env}` : "";
}

/**
 * The exported config as `wrangler deploy --env NAME` reads it, for a
 * project that ran in a named environment (see environmentConfig); as it
 * is otherwise.
 */
function inEnvironment(project: Project, config: Record<string, unknown>): Record<string, unknown> {
  const env = project.env;
  if (env === null) return config;
  const w = project.wrangler;
  return environmentConfig(config, env, { topLevel: w.topLevelName, worker: w.name });
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
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ...plan, files, warnings };
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
  const sources = sourceFiles(project, analysis, excluded);
  const warnings: string[] = [];
  const files: ExportFile[] = assetFiles(project, excluded);

  for (const abs of sources) {
    const rel = toPosix(relative(project.dir, abs));
    if (rel === GENERATED_DIR || rel.startsWith(`${GENERATED_DIR}/`)) {
      throw new ProjectError(
        `${rel}: ${GENERATED_DIR}/ is where the export puts its generated code; rename it`,
      );
    }
    if (GENERATED_FILES.has(rel) || files.some((f) => f.path === rel)) continue;
    files.push({ path: rel, contents: readFileSync(abs) });
  }

  const hasBus = project.eventBusBinding !== null;
  const classes = [...new Set(w.durableObjects.map((b) => b.className))];
  const exported = new Set(analysis.exports);
  for (const name of [BUS_CLASS, BUS_NAMESPACE]) {
    if (
      hasBus &&
      (exported.has(name) || w.durableObjects.some((b) => b.binding === name) || name in w.vars)
    ) {
      throw new ProjectError(`${name} is reserved for the exported Event Bus; rename yours`);
    }
  }

  const needed = hasBus ? [...classes, BUS_CLASS] : classes;
  const migrations = planMigrations({
    migrations: w.migrations,
    history: project.terrarium.history ?? [],
    needed,
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

  const entryDir = join(project.dir, GENERATED_DIR);
  const mainImport = importPath(entryDir, w.main);
  files.push({
    path: `${GENERATED_DIR}/entry.ts`,
    contents: entrySource(project, mainImport, classes, hasBus),
  });
  for (const name of ["runtime.ts", "event-bus.ts"]) {
    files.push({ path: `${GENERATED_DIR}/${name}`, contents: readFileSync(join(TEMPLATES, name), "utf8") });
  }
  // Terrarium's own key -> shard function and Event Bus delivery rules, so the
  // exported project spreads keys and delivers events exactly as Terrarium does.
  for (const [name, source] of [
    ["sharding.ts", "runtime/shared/sharding.ts"],
    ["delivery.ts", "runtime/event-bus/delivery.ts"],
  ] as const) {
    files.push({
      path: `${GENERATED_DIR}/${name}`,
      contents:
        `// Generated by \`terrarium export\` from Terrarium's ${source}. Do not edit;\n` +
        "// change terrarium.json and export again.\n\n" +
        readFileSync(join(RUNTIME, source.slice("runtime/".length)), "utf8"),
    });
  }

  const raw: Record<string, unknown> = { ...w.raw };
  for (const k of ["$schema", "name", "main", "compatibility_date", "compatibility_flags"]) delete raw[k];
  for (const k of ["durable_objects", "migrations", "vars", "d1_databases", "r2_buckets"]) delete raw[k];
  const config: Record<string, unknown> = {
    $schema: "node_modules/wrangler/config-schema.json",
    name: w.name,
    main: `${GENERATED_DIR}/entry.ts`,
    compatibility_date: w.compatibilityDate,
  };
  if (w.compatibilityFlags.length > 0) config.compatibility_flags = [...w.compatibilityFlags];
  Object.assign(config, raw);
  const bindings: { name: string; class_name: string; script_name?: string }[] = [
    ...w.durableObjects.map((b) => ({ name: b.binding, class_name: b.className })),
    ...w.foreignDurableObjects.map((b) => ({
      name: b.binding,
      class_name: b.className,
      script_name: b.scriptName,
    })),
  ];
  if (hasBus) bindings.push({ name: BUS_NAMESPACE, class_name: BUS_CLASS });
  if (bindings.length > 0) config.durable_objects = { bindings };
  const allMigrations = [...(w.raw.migrations ?? []), ...(migrations.added ? [migrations.added] : [])];
  if (allMigrations.length > 0) config.migrations = allMigrations;
  if (Object.keys(w.vars).length > 0) config.vars = w.vars;
  if (w.raw.d1_databases?.length) config.d1_databases = w.raw.d1_databases;
  if (w.raw.r2_buckets?.length) config.r2_buckets = w.raw.r2_buckets;
  files.push({
    path: "wrangler.jsonc",
    contents:
      `// Generated by \`terrarium export\` from ${w.name}. Deploy with \`npm run deploy\`;\n` +
      `// see README.md.\n${formatJson(inEnvironment(project, config))}\n`,
  });

  const ownPackage = join(project.dir, "package.json");
  let dependencies: Record<string, string> = {};
  if (existsSync(ownPackage)) {
    const pkg = JSON.parse(readFileSync(ownPackage, "utf8")) as { dependencies?: Record<string, string> };
    dependencies = { ...pkg.dependencies };
  }
  for (const p of analysis.packages) {
    if (!(p in dependencies)) {
      dependencies[p] = "*";
      warnings.push(`package ${p} is imported but not in the project's package.json; pin its version`);
    }
  }
  const packageJson: Record<string, unknown> = {
    name: w.name.toLowerCase().replace(/[^a-z0-9-_.]/g, "-"),
    version: "0.0.0",
    private: true,
    type: "module",
    scripts: {
      dev: `wrangler dev${envFlag(project)}`,
      deploy: `wrangler deploy${envFlag(project)}`,
      types: "wrangler types",
      typecheck: "tsc --noEmit",
    },
  };
  if (Object.keys(dependencies).length > 0)
    packageJson.dependencies = Object.fromEntries(Object.entries(dependencies).sort());
  packageJson.devDependencies = TOOL_VERSIONS;
  files.push({ path: "package.json", contents: `${JSON.stringify(packageJson, null, 2)}\n` });
  files.push({
    path: "tsconfig.json",
    contents: `${JSON.stringify(
      {
        compilerOptions: {
          target: "es2024",
          lib: ["es2024"],
          module: "es2022",
          moduleResolution: "bundler",
          types: [workersTypesFor(w.compatibilityDate)],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          isolatedModules: true,
          allowJs: true,
          checkJs: false,
          resolveJsonModule: true,
          allowImportingTsExtensions: true,
          forceConsistentCasingInFileNames: true,
        },
        exclude: ["node_modules", ".wrangler", "dist"],
      },
      null,
      2,
    )}\n`,
  });
  files.push({ path: ".gitignore", contents: "node_modules/\n.wrangler/\n" });
  files.push({ path: "README.md", contents: readme(project, { migration: migrations.added, hasBus }) });

  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { projectName: w.name, files, addedMigration: migrations.added, warnings };
}

/** A path with its deepest existing ancestor's links followed (the path itself need not exist). */
function realExisting(path: string): string {
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  return join(realpathSync(existing), relative(existing, path));
}

/** Kept when --force empties an output folder: a repository, installed packages, wrangler's local state. */
const KEPT_ON_FORCE = new Set([".git", "node_modules", ".wrangler"]);

/**
 * Writes a plan into `outDir`, which must be missing or empty unless
 * `force` (then its contents are replaced, but for .git, node_modules and
 * .wrangler). Nothing is written outside `outDir`.
 */
export function writeExport(
  plan: ExportPlan,
  outDir: string,
  opts: { force?: boolean; projectDir?: string } = {},
): void {
  const out = resolve(outDir);
  if (out === parsePath(out).root || out === homedir()) {
    throw new ExportError(`refusing to export into ${out}; pick a folder of its own`);
  }
  if (opts.projectDir) {
    // Compared once links are followed: a link (or a linked parent) must not lead --force into the project.
    const project = realpathSync(opts.projectDir);
    const real = realExisting(out);
    if (project === real || project.startsWith(real + sep)) {
      throw new ExportError(`${out} holds the project itself; export to another folder`);
    }
  }
  if (existsSync(out)) {
    if (!lstatSync(out).isDirectory()) throw new ExportError(`${out} exists and is not a folder`);
    const entries = readdirSync(out);
    if (entries.length > 0) {
      if (!opts.force) throw new ExportError(`${out} is not empty; pass --force to replace its contents`);
      for (const e of entries)
        if (!KEPT_ON_FORCE.has(e)) rmSync(join(out, e), { recursive: true, force: true });
    }
  }
  for (const file of plan.files) {
    const target = resolve(out, file.path);
    if (!target.startsWith(out + sep)) throw new ExportError(`refusing to write ${file.path} outside ${out}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.contents);
  }
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
