import type { Engine } from "../engine.ts";
import { ProjectError } from "../config/errors.ts";
import { idFromName, namespaceKey, rekeyId } from "../shared/ids.ts";
import { deleteClassFiles, renameClassFiles, type ClassChangeResult } from "./class-changes.ts";
import { saveSettings, type SettingsEdit } from "./settings.ts";

// The Design view's changes to a running project: each edits the project's
// files, moves the engine's data where the change needs it, and reloads the
// engine, one change at a time (Engine.exclusive), so a file watcher's
// reload never interleaves with one.

/**
 * Renames a Durable Object class, files and data: the project's files as
 * renameClassFiles changes them, and every object of the class moves to
 * the new one with its storage, alarm, transitions and logs, as
 * Cloudflare's renamed_classes migration keeps a class's objects. Ids
 * derive from the class name (as in workerd), so an object created by
 * name gets the id its name has under the new class and keeps being found
 * by it; one made with newUniqueId keeps the first half of its id.
 */
export function renameClass(
  engine: Engine,
  from: string,
  to: string,
): Promise<ClassChangeResult & { objects: number }> {
  return engine.exclusive(async () => {
    const reopen = await engine.lifecycle.closeClass(from, `class ${from} is being renamed to ${to}; retry`);
    try {
      const result = renameClassFiles(engine.project.dir, engine.dataDir, from, to);
      engine.history.rename(from, to);
      const ns = namespaceKey(engine.project.wrangler.name, to);
      const objects = [...engine.registry.objects()].filter((r) => r.className === from);
      for (const rec of objects) {
        const oldId = rec.id;
        const newId = rec.name !== null ? idFromName(ns, rec.name) : rekeyId(ns, oldId);
        engine.state.move(from, oldId, to, newId);
        engine.timeTravel.store.move(from, oldId, to, newId);
        engine.registry.rekey(oldId, newId, to);
      }
      const reload = await engine.reload();
      if (!reload.ok) result.notes.push(`the engine did not take the new code: ${reload.error}`);
      return { ...result, objects: objects.length };
    } finally {
      reopen();
    }
  });
}

/**
 * Deletes a Durable Object class: the project's files as deleteClassFiles
 * changes them, and every object of the class is terminated with its
 * storage, as Cloudflare's deleted_classes migration deletes them.
 */
export function deleteClass(
  engine: Engine,
  className: string,
): Promise<ClassChangeResult & { objects: number }> {
  return engine.exclusive(async () => {
    const reopen = await engine.lifecycle.closeClass(className, `class ${className} is being deleted`);
    try {
      const result = deleteClassFiles(engine.project.dir, engine.dataDir, className);
      const objects = [...engine.registry.objects()].filter((r) => r.className === className);
      for (const rec of objects) await engine.lifecycle.terminate(rec.id, `class ${className} was deleted`);
      const reload = await engine.reload();
      if (!reload.ok) result.notes.push(`the engine did not take the new code: ${reload.error}`);
      return { ...result, objects: objects.length };
    } finally {
      reopen();
    }
  });
}

/** Saves the Design panel's edit to terrarium.json and applies it (routes, subscriptions, timeouts) at once. */
export function applySettings(engine: Engine, edit: SettingsEdit): Promise<{ files: string[] }> {
  return engine.exclusive(async () => {
    const result = saveSettings(engine.project.dir, edit);
    const reload = await engine.reload();
    if (!reload.ok) throw new ProjectError(reload.error ?? "the engine did not take the change");
    return result;
  });
}
