import { mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

export interface ProjectFile {
  path: string;
  bytes: number;
}

export interface SourceFile {
  path: string;
  text: string;
}

/** Folders that are not the project's own files: data, dependencies, build output, VCS. */
const SKIPPED_DIRS = new Set([".terrarium", "node_modules", ".git", ".wrangler", "dist", "out"]);

/** Files the UI may write: sources and configuration, as text. */
const WRITABLE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs|json|jsonc|toml|md|txt|sql|html|css)$/i;

const MAX_READ_BYTES = 2 * 1024 * 1024;
const MAX_FILES = 5_000;

export class ProjectPathError extends Error {
  override name = "ProjectPathError";
}

/**
 * Resolves a project-relative path and refuses anything outside the project
 * folder, inside a skipped folder (the data folder included, wherever it is),
 * or reached through a symbolic link that leaves the project.
 */
export function resolveProjectPath(projectDir: string, dataDir: string, path: string): string {
  const root = realpathSync(projectDir);
  const abs = resolve(root, path);
  const rel = relative(root, abs);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new ProjectPathError(`${path} is not inside the project folder`);
  }
  if (rel.split(sep).some((part) => SKIPPED_DIRS.has(part))) {
    throw new ProjectPathError(`${path} is in a folder Terrarium does not edit`);
  }
  const data = resolve(dataDir);
  if (abs === data || abs.startsWith(data + sep)) {
    throw new ProjectPathError(`${path} is in the data folder`);
  }
  // The deepest existing ancestor must still be inside the project once links are followed.
  let existing = abs;
  for (;;) {
    try {
      const real = realpathSync(existing);
      if (real !== root && !real.startsWith(root + sep)) {
        throw new ProjectPathError(`${path} leads outside the project folder`);
      }
      break;
    } catch (e) {
      if (e instanceof ProjectPathError) throw e;
      const up = dirname(existing);
      if (up === existing) break;
      existing = up;
    }
  }
  return abs;
}

/** The project's files, sorted by path, with forward slashes. */
export function listProjectFiles(projectDir: string, dataDir: string): ProjectFile[] {
  const root = resolve(projectDir);
  const data = resolve(dataDir);
  const out: ProjectFile[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= MAX_FILES) return;
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (SKIPPED_DIRS.has(e.name) || abs === data) continue;
        walk(abs);
      } else if (e.isFile()) {
        out.push({ path: relative(root, abs).split(sep).join("/"), bytes: statSync(abs).size });
      }
    }
  };
  walk(root);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export function readProjectFile(projectDir: string, dataDir: string, path: string): SourceFile {
  const abs = resolveProjectPath(projectDir, dataDir, path);
  const size = statSync(abs).size;
  if (size > MAX_READ_BYTES) throw new ProjectPathError(`${path} is larger than 2 MiB`);
  return { path: path.split("\\").join("/"), text: readFileSync(abs, "utf8") };
}

export function writeProjectFile(projectDir: string, dataDir: string, file: SourceFile): ProjectFile {
  if (!WRITABLE.test(file.path)) {
    throw new ProjectPathError(`${file.path}: only source and configuration files can be written`);
  }
  const abs = resolveProjectPath(projectDir, dataDir, file.path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, file.text);
  return { path: file.path.split("\\").join("/"), bytes: Buffer.byteLength(file.text) };
}

/**
 * The source file that declares each class: the first project source with
 * `class <Name>` in it. A heuristic for the editor, not a parser.
 */
export function findClassSources(
  projectDir: string,
  dataDir: string,
  classNames: readonly string[],
): Map<string, string> {
  const found = new Map<string, string>();
  const sources = listProjectFiles(projectDir, dataDir).filter(
    (f) => /\.(ts|tsx|mts|js|jsx|mjs)$/.test(f.path) && f.bytes <= MAX_READ_BYTES,
  );
  for (const f of sources) {
    if (found.size === classNames.length) break;
    const text = readFileSync(join(projectDir, f.path), "utf8");
    for (const name of classNames) {
      if (!found.has(name) && new RegExp(`\\bclass\\s+${name}\\b`).test(text)) found.set(name, f.path);
    }
  }
  return found;
}
