import { readFileSync } from "node:fs";
import { basename, extname, join, relative, sep } from "node:path";
import { parse as parseJsonc } from "jsonc-parser";
import { ProjectError } from "../config/errors.ts";
import { loadProject, type Project } from "../config/project.ts";
import { listProjectFiles } from "../config/project-files.ts";
import {
  appendMigration,
  editJsonc,
  IDENTIFIER,
  nextMigrationTag,
  terrariumText,
  writeAllOrNothing,
} from "./edit-files.ts";
import { findIdentifier, renameIdentifier } from "./identifiers.ts";

// Renaming and deleting a Durable Object class in a project's files, as a
// Cloudflare developer would by hand: the code, the wrangler config with the
// migration the change needs (renamed_classes / deleted_classes), and
// terrarium.json (the class's settings and the Design history, which the
// exporter also reads). The objects' local data is the engine's part
// (renameClass / deleteClass in project-changes.ts).

export interface ClassChangeResult {
  /** Project files written, relative to the project folder. */
  files: string[];
  /** What the user should know: references left for them to look at. */
  notes: string[];
}

const CODE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;
const MAX_SOURCE_BYTES = 2 * 1024 * 1024;

/** Words that cannot name a class. */
const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally " +
    "for function if import in instanceof new null return super switch this throw true try typeof var void " +
    "while with yield let static implements interface package private protected public await"
  ).split(" "),
);

function rel(project: Project, p: string): string {
  return relative(project.dir, p).split(sep).join("/");
}

function sources(project: Project, dataDir: string): string[] {
  return listProjectFiles(project.dir, dataDir)
    .filter((f) => CODE.test(f.path) && f.bytes <= MAX_SOURCE_BYTES && !f.path.endsWith(".d.ts"))
    .map((f) => join(project.dir, f.path));
}

function requireClass(project: Project, className: string): void {
  if (!project.wrangler.durableObjects.some((b) => b.className === className)) {
    throw new ProjectError(`the project has no Durable Object class ${className}`, {
      file: basename(project.wrangler.configPath),
    });
  }
}

/** The wrangler config with every binding of `from` pointing at `to`, and the renamed_classes migration. */
function wranglerRenamed(project: Project, from: string, to: string): string {
  const w = project.wrangler;
  let text = readFileSync(w.configPath, "utf8");
  if (extname(w.configPath) === ".toml") {
    const pattern = new RegExp(`(class_name\\s*=\\s*)(["'])${from}\\2`, "g");
    if (!pattern.test(text)) {
      throw new ProjectError(`cannot find class_name = "${from}" in ${basename(w.configPath)}`, {
        file: basename(w.configPath),
      });
    }
    text = text.replace(pattern, `$1$2${to}$2`);
  } else {
    const raw = parseJsonc(text, [], { allowTrailingComma: true }) as {
      durable_objects?: { bindings?: { class_name?: string }[] };
    };
    (raw.durable_objects?.bindings ?? []).forEach((b, i) => {
      if (b.class_name === from) text = editJsonc(text, ["durable_objects", "bindings", i, "class_name"], to);
    });
  }
  return appendMigration(w.configPath, text, {
    tag: nextMigrationTag(w.migrations),
    renamed_classes: [{ from, to }],
  });
}

/** The wrangler config without the class's bindings, and the deleted_classes migration. */
function wranglerDeleted(project: Project, className: string): string {
  const w = project.wrangler;
  if (extname(w.configPath) === ".toml") {
    throw new ProjectError(
      `deleting a class from ${basename(w.configPath)} is not automatic: remove its [[durable_objects.bindings]] ` +
        `entry and add a migration with deleted_classes = ["${className}"] by hand`,
      { file: basename(w.configPath) },
    );
  }
  let text = readFileSync(w.configPath, "utf8");
  const raw = parseJsonc(text, [], { allowTrailingComma: true }) as {
    durable_objects?: { bindings?: { class_name?: string }[] };
  };
  const bindings = raw.durable_objects?.bindings ?? [];
  for (let i = bindings.length - 1; i >= 0; i--) {
    if (bindings[i]!.class_name === className)
      text = editJsonc(text, ["durable_objects", "bindings", i], undefined);
  }
  return appendMigration(w.configPath, text, {
    tag: nextMigrationTag(w.migrations),
    deleted_classes: [className],
  });
}

/**
 * Renames class `from` to `to`: every identifier use in the project's
 * sources (declaration, exports, imports, types; not strings or comments),
 * the wrangler bindings with a renamed_classes migration, and the class's
 * settings in terrarium.json, with the rename added to the Design history.
 * The project must load afterwards, or nothing is changed.
 */
export function renameClassFiles(
  projectDir: string,
  dataDir: string,
  from: string,
  to: string,
): ClassChangeResult {
  const project = loadProject(projectDir);
  requireClass(project, from);
  if (!IDENTIFIER.test(to) || RESERVED.has(to)) throw new ProjectError(`${to} cannot name a class`);
  if (to === from) throw new ProjectError(`the class is already called ${to}`);
  if (project.wrangler.durableObjects.some((b) => b.className === to)) {
    throw new ProjectError(`the project already has a class ${to}`);
  }
  const writes: [string, string][] = [];
  const notes: string[] = [];
  for (const file of sources(project, dataDir)) {
    const text = readFileSync(file, "utf8");
    if (findIdentifier(text, to).length > 0) {
      throw new ProjectError(`${rel(project, file)} already uses the name ${to}; pick another`);
    }
    const renamed = renameIdentifier(text, from, to);
    if (renamed.count > 0) writes.push([file, renamed.text]);
    // Mentions the rename leaves (strings, comments) are for the user to look at.
    const mentions = text
      .split("\n")
      .flatMap((line, i) =>
        new RegExp(`\\b${from}\\b`).test(line) && !findIdentifier(line, from).length
          ? [`${rel(project, file)}:${i + 1}`]
          : [],
      );
    if (mentions.length)
      notes.push(`${from} is still mentioned in text at ${mentions.slice(0, 5).join(", ")}`);
  }
  if (!writes.some(([, t]) => new RegExp(`\\bclass\\s+${to}\\b`).test(t))) {
    throw new ProjectError(`cannot find the declaration of class ${from} in the project's sources`);
  }
  writes.push([project.wrangler.configPath, wranglerRenamed(project, from, to)]);

  const t = terrariumText(project.dir);
  let text = t.text;
  const cfg = project.terrarium;
  if (cfg.classes?.[from]) {
    text = editJsonc(text, ["classes", from], undefined);
    text = editJsonc(text, ["classes", to], cfg.classes[from]);
  }
  if (cfg.sharding?.[from]) {
    text = editJsonc(text, ["sharding", from], undefined);
    text = editJsonc(text, ["sharding", to], cfg.sharding[from]);
  }
  text = editJsonc(text, ["history", -1], { op: "rename", from, to }, true);
  writes.push([t.path, text]);

  writeAllOrNothing(writes, () => loadProject(project.dir));
  return { files: writes.map(([p]) => rel(project, p)), notes };
}

/** `source` without `className` among its exports, and whether one was found. */
function withoutExport(source: string, className: string): { text: string; found: boolean } {
  // export class X / export default class X stay classes, just not exported.
  const decl = new RegExp(`\\bexport\\s+(class\\s+${className}\\b)`);
  if (decl.test(source)) return { text: source.replace(decl, "$1"), found: true };
  // export { A, X as Y, B } [from "..."];
  const list = /export\s*\{([^}]*)\}(\s*from\s*(["'])[^"']*\3)?\s*;?[ \t]*\n?/g;
  let found = false;
  const text = source.replace(list, (whole, names: string) => {
    const kept = names
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== "")
      .filter((n) => n.split(/\s+as\s+/)[0] !== className);
    if (kept.length === names.split(",").filter((n) => n.trim() !== "").length) return whole;
    found = true;
    if (kept.length === 0) return "";
    return whole.replace(/\{[^}]*\}/, `{ ${kept.join(", ")} }`);
  });
  return { text, found };
}

/**
 * Deletes class `className`: its wrangler bindings go, a deleted_classes
 * migration is added, the entry stops exporting it, terrarium.json drops its
 * settings, routes and subscriptions, and the Design history records the
 * deletion. The class's source stays (notes say where it and its binding
 * are still referenced). The project must load afterwards, or nothing is
 * changed.
 */
export function deleteClassFiles(projectDir: string, dataDir: string, className: string): ClassChangeResult {
  const project = loadProject(projectDir);
  requireClass(project, className);
  const w = project.wrangler;
  const bindings = w.durableObjects.filter((b) => b.className === className).map((b) => b.binding);
  const writes: [string, string][] = [];
  const notes: string[] = [];

  const main = withoutExport(readFileSync(w.main, "utf8"), className);
  if (main.found) writes.push([w.main, main.text]);
  else
    notes.push(
      `${rel(project, w.main)} does not export ${className} in a way Terrarium can remove; remove it by hand`,
    );
  writes.push([w.configPath, wranglerDeleted(project, className)]);

  const t = terrariumText(project.dir);
  let text = t.text;
  const cfg = project.terrarium;
  if (cfg.classes?.[className]) text = editJsonc(text, ["classes", className], undefined);
  if (cfg.sharding?.[className]) text = editJsonc(text, ["sharding", className], undefined);
  // Routes and subscriptions to the class go; a section left empty goes too.
  for (const section of ["routes", "subscriptions"] as const) {
    const list = cfg[section] ?? [];
    const keep = list.filter((x) => !bindings.includes(x.binding));
    if (keep.length === list.length) continue;
    if (keep.length === 0) text = editJsonc(text, [section], undefined);
    else
      for (let i = list.length - 1; i >= 0; i--) {
        if (bindings.includes(list[i]!.binding)) text = editJsonc(text, [section, i], undefined);
      }
  }
  text = editJsonc(text, ["history", -1], { op: "delete", class: className }, true);
  writes.push([t.path, text]);

  for (const file of sources(project, dataDir)) {
    const source = file === w.main ? main.text : readFileSync(file, "utf8");
    const lines = source.split("\n");
    const uses = bindings.flatMap((b) =>
      lines.flatMap((line, i) =>
        new RegExp(`\\.${b}\\b`).test(line) ? [`${rel(project, file)}:${i + 1}`] : [],
      ),
    );
    if (uses.length)
      notes.push(
        `env.${bindings.join(", env.")} is no longer bound but is still used at ${uses.slice(0, 5).join(", ")}`,
      );
  }
  writeAllOrNothing(writes, () => loadProject(project.dir));
  return { files: writes.map(([p]) => rel(project, p)), notes };
}
