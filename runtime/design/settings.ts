import { ProjectError } from "../config/errors.ts";
import { loadProject } from "../config/project.ts";
import { editJsonc, terrariumText, writeAllOrNothing } from "./edit-files.ts";

/** Idle and hibernation timeouts; null removes the value (the default applies). */
export interface PolicyEdit {
  idleAfterMs?: number | null | undefined;
  hibernateAfterMs?: number | null | undefined;
}

/**
 * The Design side panel's edits to terrarium.json. Each section given
 * replaces what the file has (routes, subscriptions) or changes the named
 * values (timeouts, a class's kind and notes); sections not given are left
 * as they are, with the file's comments and formatting.
 */
export interface SettingsEdit {
  routes?: unknown[] | undefined;
  subscriptions?: unknown[] | undefined;
  lifecycle?: PolicyEdit | undefined;
  classes?:
    | Record<
        string,
        {
          kind?: string | null | undefined;
          notes?: string | null | undefined;
          lifecycle?: PolicyEdit | undefined;
        }
      >
    | undefined;
}

function editPolicy(text: string, path: string[], policy: PolicyEdit): string {
  for (const key of ["idleAfterMs", "hibernateAfterMs"] as const) {
    const v = policy[key];
    if (v === undefined) continue;
    text = editJsonc(text, [...path, key], v === null ? undefined : v);
  }
  return text;
}

/**
 * Writes the edit to terrarium.json; the project must load with it (the
 * same checks as at start: every route and subscription names a bound
 * class, every value has its type), or the file is left as it was and the
 * error says which field is wrong.
 */
export function saveSettings(projectDir: string, edit: SettingsEdit): { files: string[] } {
  const project = loadProject(projectDir);
  const { path, text: current } = terrariumText(project.dir);
  let text = current;
  if (edit.routes) text = editJsonc(text, ["routes"], edit.routes.length ? edit.routes : undefined);
  if (edit.subscriptions) {
    text = editJsonc(text, ["subscriptions"], edit.subscriptions.length ? edit.subscriptions : undefined);
  }
  if (edit.lifecycle) text = editPolicy(text, ["lifecycle"], edit.lifecycle);
  const bound = new Set(project.wrangler.durableObjects.map((b) => b.className));
  for (const [className, c] of Object.entries(edit.classes ?? {})) {
    if (!bound.has(className)) throw new ProjectError(`the project has no class ${className}`);
    for (const key of ["kind", "notes"] as const) {
      const v = c[key];
      if (v === undefined) continue;
      text = editJsonc(text, ["classes", className, key], v === null || v === "" ? undefined : v);
    }
    if (c.lifecycle) text = editPolicy(text, ["classes", className, "lifecycle"], c.lifecycle);
  }
  writeAllOrNothing([[path, text]], () => loadProject(project.dir));
  return { files: ["terrarium.json"] };
}
