import type { ClassChange } from "../config/terrarium.ts";
import type { Migration } from "../config/wrangler.ts";

/** A migration in wrangler's own shape. */
export interface WranglerMigration {
  tag: string;
  new_classes?: string[];
  new_sqlite_classes?: string[];
  renamed_classes?: { from: string; to: string }[];
  deleted_classes?: string[];
}

export interface MigrationPlan {
  /** The migration to append to the project's own, or null when they already cover everything. */
  added: WranglerMigration | null;
  warnings: string[];
}

/** The classes a list of migrations leaves deployed, in first-declared order. */
export function deployedClasses(migrations: readonly Migration[]): string[] {
  const live: string[] = [];
  for (const m of migrations) {
    for (const c of [...m.newClasses, ...m.newSqliteClasses]) if (!live.includes(c)) live.push(c);
    for (const r of m.renamedClasses) {
      const i = live.indexOf(r.from);
      if (i >= 0) live[i] = r.to;
    }
    for (const c of m.deletedClasses) {
      const i = live.indexOf(c);
      if (i >= 0) live.splice(i, 1);
    }
  }
  return live;
}

function nextTag(migrations: readonly Migration[]): string {
  if (migrations.length === 0) return "v1";
  const numbers = migrations.map((m) => /^v(\d+)$/.exec(m.tag)?.[1]);
  if (numbers.every((n) => n !== undefined)) return `v${Math.max(...numbers.map(Number)) + 1}`;
  let n = migrations.length + 1;
  while (migrations.some((m) => m.tag === `terrarium-${n}`)) n++;
  return `terrarium-${n}`;
}

/**
 * What the export must add to the project's migrations so that a deploy
 * has every class it needs: renames and deletions done in Terrarium
 * (terrarium.json `history`) of classes the migrations deployed, then
 * new_sqlite_classes for every needed class no migration declares. Changes
 * that touch no deployed class need no migration: the class never existed
 * on Cloudflare. A deployed class the code no longer exports, and that no
 * deletion in the history explains, is left alone with a warning: deleting
 * it would delete its data.
 */
export function planMigrations(opts: {
  migrations: readonly Migration[];
  history: readonly ClassChange[];
  needed: readonly string[];
  exported: ReadonlySet<string>;
}): MigrationPlan {
  const live = deployedClasses(opts.migrations);
  const renamed: { from: string; to: string }[] = [];
  const deleted: string[] = [];
  for (const change of opts.history) {
    if (change.op === "rename") {
      const i = live.indexOf(change.from);
      if (i < 0 || live.includes(change.to)) continue;
      live[i] = change.to;
      renamed.push({ from: change.from, to: change.to });
    } else {
      const i = live.indexOf(change.class);
      if (i < 0) continue;
      live.splice(i, 1);
      deleted.push(change.class);
    }
  }
  const added = opts.needed.filter((c) => !live.includes(c));
  const warnings: string[] = [];
  for (const c of live) {
    if (!opts.exported.has(c) && !opts.needed.includes(c)) {
      warnings.push(
        `class ${c} is deployed by the migrations but the code no longer exports it: a deploy fails ` +
          `until it is exported again or deleted (delete it in Terrarium, or add a deleted_classes migration)`,
      );
    }
  }
  if (renamed.length === 0 && deleted.length === 0 && added.length === 0) return { added: null, warnings };
  const migration: WranglerMigration = { tag: nextTag(opts.migrations) };
  if (added.length > 0) migration.new_sqlite_classes = added;
  if (renamed.length > 0) migration.renamed_classes = renamed;
  if (deleted.length > 0) migration.deleted_classes = deleted;
  return { added: migration, warnings };
}
