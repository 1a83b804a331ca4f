import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, parse as parsePath, relative, resolve, sep } from "node:path";
import type { ExportFile } from "./sources.ts";

/** An export refused: where it would write is not a folder of its own. */
export class ExportError extends Error {
  override name = "ExportError";
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
  plan: { files: readonly ExportFile[] },
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
