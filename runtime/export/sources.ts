import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import * as esbuild from "esbuild";
import { moduleRulesPlugin } from "../build/module-rules.ts";
import { ProjectError } from "../config/errors.ts";
import type { Project } from "../config/project.ts";

// What an export copies of the project: the files its code is made of
// (found by bundling it) and its static assets, byte for byte.

/** Where the generated code goes in the exported project. */
export const GENERATED_DIR = "src/terrarium";

/** Folders that are never the project's source. */
const SKIPPED_DIRS = new Set(["node_modules", ".terrarium", ".wrangler", ".git"]);

/** A file of the export. */
export interface ExportFile {
  /** Relative to the output folder, with "/" separators. */
  path: string;
  contents: string | Uint8Array;
}

/** What bundling the project tells: its source files, its main module's exports and the packages it imports. */
export interface Analysis {
  inputs: string[];
  exports: string[];
  packages: string[];
}

/** Bundles the project only to learn its source files, its exports and the packages it imports. */
export async function analyse(project: Project): Promise<Analysis> {
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

export function toPosix(p: string): string {
  return p.split(sep).join("/");
}

/**
 * The project's own files: everything its main module imports, every file
 * beside main (unless main sits at the project root), and the root's .d.ts
 * files (worker-configuration.d.ts and the like). Copied byte for byte.
 */
export function sourceFiles(project: Project, analysis: Analysis, excluded: string | null): string[] {
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

/** `file` as an import from `fromDir` (relative, without a .ts or .js extension). */
export function importPath(fromDir: string, file: string): string {
  let rel = toPosix(relative(fromDir, file));
  if (!rel.startsWith(".")) rel = `./${rel}`;
  const ext = extname(rel);
  return [".ts", ".tsx", ".js", ".jsx"].includes(ext) && !rel.endsWith(".d.ts")
    ? rel.slice(0, -ext.length)
    : rel;
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
export function assetFiles(project: Project, excluded: string | null): ExportFile[] {
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
 * The files an export copies: the static assets, then the project's own
 * files (sourceFiles) but those the export writes itself. A project file
 * under GENERATED_DIR is refused.
 */
export function projectFiles(project: Project, analysis: Analysis, excluded: string | null): ExportFile[] {
  const files = assetFiles(project, excluded);
  for (const abs of sourceFiles(project, analysis, excluded)) {
    const rel = toPosix(relative(project.dir, abs));
    if (rel === GENERATED_DIR || rel.startsWith(`${GENERATED_DIR}/`)) {
      throw new ProjectError(
        `${rel}: ${GENERATED_DIR}/ is where the export puts its generated code; rename it`,
      );
    }
    if (GENERATED_FILES.has(rel) || files.some((f) => f.path === rel)) continue;
    files.push({ path: rel, contents: readFileSync(abs) });
  }
  return files;
}
