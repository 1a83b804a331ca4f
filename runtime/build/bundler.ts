import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { ProjectError } from "../config/errors.ts";
import { hasNodejsCompat, type WranglerProject } from "../config/wrangler.ts";
import { CLOUDFLARE_MODULES, isCloudflareModule } from "../workers-api/modules.ts";
import { moduleRulesPlugin } from "./module-rules.ts";

const here = dirname(fileURLToPath(import.meta.url));
const runtimeRoot = resolve(here, "..");
const repoRoot = resolve(runtimeRoot, "..");

/** Node globals that object code must not see unless the project sets nodejs_compat. */
const NODE_COMPAT_GLOBALS = ["process", "Buffer", "global", "setImmediate", "clearImmediate"];

/**
 * Globals a Node worker thread has and workerd never offers.
 * NOTE: not `require`. Replacing it with `undefined` also replaced the
 * require() calls of the CommonJS dependencies esbuild bundles (ajv,
 * mime-db, ...: "(void 0) is not a function" at load). Left alone, esbuild
 * bundles those calls and points the rest at its __require shim, so
 * `typeof require` is "function" and requiring a module that is not in the
 * bundle throws, exactly as in a wrangler build on workerd.
 */
const NODE_ONLY_GLOBALS = [
  "__dirname",
  "__filename",
  "BroadcastChannel",
  "Performance",
  "PerformanceEntry",
  "PerformanceMark",
  "PerformanceMeasure",
  "PerformanceObserver",
  "PerformanceObserverEntryList",
  "PerformanceResourceTiming",
];

/** Globals workerd offers from a compatibility date on (or with the flag that enables them early). */
const DATED_GLOBALS: { names: string[]; from: string; flag: string }[] = [
  { names: ["WeakRef", "FinalizationRegistry"], from: "2025-05-05", flag: "enable_weak_ref" },
  { names: ["MessageChannel", "MessagePort"], from: "2025-08-15", flag: "expose_global_message_channel" },
];

/**
 * The globals the project's code must not see, as workerd would not show
 * them for its compatibility date and flags.
 */
export function hiddenGlobals(
  project: Pick<WranglerProject, "compatibilityDate" | "compatibilityFlags">,
): string[] {
  const hidden = [...NODE_ONLY_GLOBALS];
  if (!hasNodejsCompat(project)) hidden.push(...NODE_COMPAT_GLOBALS);
  for (const d of DATED_GLOBALS) {
    if (project.compatibilityDate < d.from && !project.compatibilityFlags.includes(d.flag))
      hidden.push(...d.names);
  }
  return hidden;
}

/**
 * The names replaced by `undefined` in the project's code: each hidden
 * global as a bare identifier and as a property of globalThis or self (as
 * libraries probe for Node: `typeof globalThis.process`). Computed access
 * (`globalThis[name]`) still reaches the worker thread's own.
 */
function hiddenGlobalsDefine(names: string[]): Record<string, string> {
  const define: Record<string, string> = {};
  for (const g of names) {
    define[g] = "undefined";
    define[`globalThis.${g}`] = "undefined";
    define[`self.${g}`] = "undefined";
  }
  return define;
}

export interface Bundle {
  /** Absolute path of the bundled ES module. */
  path: string;
  /** Content hash: two builds of the same code have the same hash. */
  hash: string;
  /** Source files that went into it (for the watcher). */
  inputs: string[];
}

function firstError(project: WranglerProject, errors: esbuild.Message[]): ProjectError {
  const e = errors[0];
  if (!e) return new ProjectError("build failed");
  const loc = e.location;
  const projectDir = dirname(project.configPath);
  if (!loc) return new ProjectError(e.text);
  return new ProjectError(e.text, {
    file: relative(projectDir, resolve(projectDir, loc.file)) || loc.file,
    line: loc.line,
    column: loc.column + 1,
  });
}

/**
 * Bundles the project's `main` and everything it imports into one ES module
 * in `outDir`. Every `cloudflare:*` module workerd offers resolves to
 * Terrarium's implementation (runtime/workers-api/modules.ts); Node
 * built-ins are refused unless the project enables nodejs_compat, as on
 * Cloudflare. Imports matching the wrangler module rules (the project's
 * `rules` and wrangler's defaults) load as text, bytes or WebAssembly
 * modules (runtime/build/module-rules.ts). A compile error throws a ProjectError with file:line:column.
 */
export async function bundleProject(project: WranglerProject, outDir: string): Promise<Bundle> {
  const nodeCompat = hasNodejsCompat(project);
  const plugin: esbuild.Plugin = {
    name: "terrarium-workers",
    setup(build) {
      build.onResolve({ filter: /^cloudflare:/ }, (args) => {
        if (isCloudflareModule(args.path))
          return { path: join(runtimeRoot, "workers-api", CLOUDFLARE_MODULES[args.path]) };
        return {
          errors: [
            {
              text:
                `Could not resolve "${args.path}": workerd has no such module ` +
                `(it has ${Object.keys(CLOUDFLARE_MODULES).join(", ")})`,
            },
          ],
        };
      });
      build.onResolve({ filter: /^node:/ }, (args) => {
        if (nodeCompat) return { path: args.path, external: true };
        return {
          errors: [
            {
              text:
                `Could not resolve "${args.path}": Node.js built-ins need the nodejs_compat ` +
                `compatibility flag in the wrangler config, as on Cloudflare`,
            },
          ],
        };
      });
    },
  };
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [project.main],
      bundle: true,
      write: false,
      metafile: true,
      format: "esm",
      platform: nodeCompat ? "node" : "neutral",
      mainFields: ["workerd", "worker", "browser", "module", "main"],
      conditions: ["workerd", "worker", "browser", "import"],
      target: "es2022",
      sourcemap: "inline",
      outfile: join(outDir, "index.mjs"),
      logLevel: "silent",
      plugins: [plugin, moduleRulesPlugin(project.rules)],
      // The project's own `define` wins, as a user's explicit choice.
      define: { ...hiddenGlobalsDefine(hiddenGlobals(project)), ...project.define },
      alias: { ...project.alias },
      absWorkingDir: dirname(project.configPath),
    });
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    if (Array.isArray(failure.errors)) throw firstError(project, failure.errors);
    throw e;
  }
  const file = result.outputFiles[0];
  if (!file) throw new ProjectError("build produced no output");
  const hash = createHash("sha256").update(file.contents).digest("hex").slice(0, 16);
  const path = join(outDir, `${hash}.mjs`);
  if (!existsSync(path)) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path, file.contents);
  }
  const projectDir = dirname(project.configPath);
  const inputs = Object.keys(result.metafile.inputs)
    .map((p) => resolve(projectDir, p))
    .filter((p) => !p.startsWith(runtimeRoot));
  return { path, hash, inputs };
}

export interface HostBundles {
  objectWorker: string;
  entryWorker: string;
}

let hostBundles: Promise<HostBundles> | null = null;

/**
 * The worker-thread entry files, compiled from runtime/host once per process
 * into node_modules/.cache (inside the repo, so better-sqlite3 resolves).
 */
export function buildHostWorkers(): Promise<HostBundles> {
  hostBundles ??= compileNodeEntries({
    "object.worker": join(runtimeRoot, "host", "object.worker.ts"),
    "entry.worker": join(runtimeRoot, "host", "entry.worker.ts"),
  }).then((paths) => ({ objectWorker: paths["object.worker"]!, entryWorker: paths["entry.worker"]! }));
  return hostBundles;
}

/**
 * Compiles runtime entry files (worker threads, child processes) to
 * CommonJS files in node_modules/.cache/terrarium, named by content hash;
 * returns each entry's path. Native and optional packages stay external and
 * resolve from the repository's node_modules.
 */
export async function compileNodeEntries(entries: Record<string, string>): Promise<Record<string, string>> {
  const outDir = join(repoRoot, "node_modules", ".cache", "terrarium");
  const result = await esbuild.build({
    entryPoints: entries,
    bundle: true,
    write: false,
    // NOTE: CommonJS, not ESM: a worker thread whose entry is an ES module
    // starts about 100 ms slower here (the ESM loader boots in the thread).
    format: "cjs",
    platform: "node",
    target: "node20",
    external: ["better-sqlite3", "ws"],
    outdir: outDir,
    outExtension: { ".js": ".cjs" },
    logLevel: "silent",
  });
  const paths: Record<string, string> = {};
  mkdirSync(outDir, { recursive: true });
  for (const f of result.outputFiles) {
    const hash = createHash("sha256").update(f.contents).digest("hex").slice(0, 12);
    const name = basename(f.path, ".cjs");
    const path = join(outDir, `${name}-${hash}.cjs`);
    if (!existsSync(path)) writeFileSync(path, f.contents);
    paths[name] = path;
  }
  return paths;
}
