import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, extname, join, relative, sep } from "node:path";
import { parse as parseJsonc } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { ProjectError } from "../config/errors.ts";
import { loadProject, type Project } from "../config/project.ts";
import { listTemplates, type ObjectTemplate } from "./templates.ts";
import {
  editJsonc,
  IDENTIFIER,
  nextMigrationTag,
  terrariumText,
  writeAllOrNothing,
} from "../design/edit-files.ts";

export interface AddClassSpec {
  /** The template's id (its folder under resources/templates). */
  template: string;
  className: string;
  binding: string;
}

export interface AddClassResult {
  className: string;
  binding: string;
  /** Project files written or changed, relative to the project folder. */
  files: string[];
  /** What the user should know: routes skipped, env bindings the class reads that the project lacks. */
  notes: string[];
}

function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();
}

/** The wrangler config with one more binding and the migration that creates its class, comments kept. */
function wranglerWithClass(project: Project, className: string, binding: string): string {
  const w = project.wrangler;
  const text = readFileSync(w.configPath, "utf8");
  const tag = nextMigrationTag(w.migrations);
  if (extname(w.configPath) === ".toml") {
    // NOTE: arrays of tables can be appended at the end of any TOML document
    // that did not write them inline; the parse below catches one that did.
    const out =
      `${text.replace(/\s*$/, "\n")}\n[[durable_objects.bindings]]\nname = "${binding}"\nclass_name = "${className}"\n` +
      `\n[[migrations]]\ntag = "${tag}"\nnew_sqlite_classes = ["${className}"]\n`;
    try {
      parseToml(out);
    } catch {
      throw new ProjectError(
        `cannot add the class to ${basename(w.configPath)} automatically; add the binding and migration by hand`,
        { file: basename(w.configPath) },
      );
    }
    return out;
  }
  const raw = parseJsonc(text, [], { allowTrailingComma: true }) as {
    durable_objects?: { bindings?: unknown[] };
    migrations?: unknown[];
  };
  let out = raw.durable_objects?.bindings
    ? editJsonc(text, ["durable_objects", "bindings", -1], { name: binding, class_name: className }, true)
    : editJsonc(text, ["durable_objects", "bindings"], [{ name: binding, class_name: className }]);
  const migration = { tag, new_sqlite_classes: [className] };
  out = raw.migrations
    ? editJsonc(out, ["migrations", -1], migration, true)
    : editJsonc(out, ["migrations"], [migration]);
  return out;
}

/** terrarium.json with the class's kind, the template's routes and subscriptions, and an Event Bus if it needs one. */
function terrariumWithClass(
  project: Project,
  t: ObjectTemplate,
  className: string,
  binding: string,
  notes: string[],
): string {
  let { text } = terrariumText(project.dir);
  const cfg = project.terrarium;
  text = editJsonc(text, ["classes", className], { kind: t.kind });
  const patterns = new Set((cfg.routes ?? []).map((r) => r.pattern));
  for (const r of t.routes ?? []) {
    if (patterns.has(r.pattern)) {
      notes.push(`route ${r.pattern} is taken; add a route to ${className} in terrarium.json by hand`);
      continue;
    }
    text = editJsonc(text, ["routes", -1], { pattern: r.pattern, binding, object: r.object }, true);
  }
  for (const s of t.subscriptions ?? []) {
    text = editJsonc(
      text,
      ["subscriptions", -1],
      { topic: s.topic, binding, object: s.object, method: s.method },
      true,
    );
  }
  const usesBus = t.uses.includes("EVENTS") || (t.publishes?.length ?? 0) > 0;
  if (usesBus && project.eventBusBinding === null && !cfg.subscriptions?.length && !t.subscriptions?.length) {
    text = editJsonc(text, ["eventBus"], { binding: "EVENTS" });
  } else if (usesBus && project.eventBusBinding !== null && project.eventBusBinding !== "EVENTS") {
    notes.push(
      `${className} publishes on env.EVENTS; this project's Event Bus is env.${project.eventBusBinding}`,
    );
  }
  return text;
}

/**
 * Adds a Durable Object class to a project from a template, as a user would
 * by hand: the class file (renamed) beside the entry, its export from the
 * entry, a binding and a migration in the wrangler config, and its kind,
 * routes and subscriptions in terrarium.json. Every file is checked by
 * loading the project again; if that fails nothing is left changed.
 */
export function addClassFromTemplate(
  projectDir: string,
  spec: AddClassSpec,
  templates: readonly ObjectTemplate[] = listTemplates(),
): AddClassResult {
  const project = loadProject(projectDir);
  const w = project.wrangler;
  const t = templates.find((x) => x.id === spec.template);
  if (!t) throw new ProjectError(`no template "${spec.template}"`);
  const { className, binding } = spec;
  if (!IDENTIFIER.test(className)) throw new ProjectError(`${className} is not a JavaScript identifier`);
  if (!IDENTIFIER.test(binding)) throw new ProjectError(`${binding} is not a JavaScript identifier`);
  if (w.durableObjects.some((b) => b.className === className)) {
    throw new ProjectError(`the project already has a class ${className}`);
  }
  if (
    w.durableObjects.some((b) => b.binding === binding) ||
    binding in w.vars ||
    binding === project.eventBusBinding ||
    binding === w.assets?.binding
  ) {
    throw new ProjectError(`env.${binding} is already bound`);
  }
  if (!w.hasWorker) {
    throw new ProjectError(
      "this project serves only static assets: add `main` (a Worker) to the wrangler config first",
    );
  }

  const mainDir = dirname(w.main);
  const classFile = join(mainDir, `${kebab(className)}.ts`);
  if (existsSync(classFile)) throw new ProjectError(`${relative(project.dir, classFile)} already exists`);
  const source = t.source.replace(new RegExp(`\\b${t.className}\\b`, "g"), className);

  const notes: string[] = [];
  let spec_ = relative(mainDir, classFile).split(sep).join("/").replace(/\.ts$/, "");
  if (!spec_.startsWith(".")) spec_ = `./${spec_}`;
  const mainText = readFileSync(w.main, "utf8");
  const entry = `${mainText.replace(/\s*$/, "\n")}export { ${className} } from "${spec_}";\n`;
  const terrariumPath = join(project.dir, "terrarium.json");
  const writes: [string, string][] = [
    [classFile, source],
    [w.configPath, wranglerWithClass(project, className, binding)],
    [terrariumPath, terrariumWithClass(project, t, className, binding, notes)],
    // Last: the export is what makes the class exist for the engine's reload.
    [w.main, entry],
  ];

  writeAllOrNothing(writes, () => {
    const after = loadProject(project.dir);
    const bound = new Set([
      ...after.wrangler.durableObjects.map((b) => b.binding),
      ...Object.keys(after.wrangler.vars),
      ...(after.eventBusBinding ? [after.eventBusBinding] : []),
      ...((after.wrangler.raw as { d1_databases?: { binding: string }[] }).d1_databases ?? []).map(
        (d) => d.binding,
      ),
      ...((after.wrangler.raw as { r2_buckets?: { binding: string }[] }).r2_buckets ?? []).map(
        (b) => b.binding,
      ),
    ]);
    const missing = t.uses.filter((u) => !bound.has(u));
    if (missing.length) {
      notes.push(`${className} reads env.${missing.join(", env.")}, which this project does not bind yet`);
    }
  });
  return {
    className,
    binding,
    files: writes.map(([p]) => relative(project.dir, p).split(sep).join("/")),
    notes,
  };
}
