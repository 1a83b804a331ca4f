import { ProjectError } from "./errors.ts";

/** One migration as the wrangler config spells it. */
interface RawMigration {
  tag: string;
  new_classes?: string[] | undefined;
  new_sqlite_classes?: string[] | undefined;
  renamed_classes?: { from: string; to: string }[] | undefined;
  deleted_classes?: string[] | undefined;
}

/**
 * Checks a wrangler config's migrations as Cloudflare applies them, in order:
 * each tag once; a class created once; renamed or deleted only once created;
 * and no binding to a class a migration deleted. A list Cloudflare would
 * refuse is refused here, with the migration and field that is wrong, rather
 * than run as if it were fine.
 */
export function checkMigrations(
  migrations: readonly RawMigration[],
  boundClasses: readonly string[],
  file: string,
): void {
  const tags = new Set<string>();
  const live = new Set<string>();
  const deletedAt = new Map<string, string>();
  migrations.forEach((m, i) => {
    const at = `migrations[${i}]`;
    if (tags.has(m.tag))
      throw new ProjectError(`tag ${m.tag} is used by an earlier migration`, { file, field: `${at}.tag` });
    tags.add(m.tag);
    const created = (list: readonly string[], key: string): void =>
      list.forEach((c, j) => {
        if (live.has(c)) {
          throw new ProjectError(`class ${c} is already created by an earlier migration`, {
            file,
            field: `${at}.${key}[${j}]`,
          });
        }
        live.add(c);
        deletedAt.delete(c);
      });
    created(m.new_classes ?? [], "new_classes");
    created(m.new_sqlite_classes ?? [], "new_sqlite_classes");
    (m.renamed_classes ?? []).forEach((r, j) => {
      if (!live.has(r.from)) {
        throw new ProjectError(`cannot rename class ${r.from}: no earlier migration creates it`, {
          file,
          field: `${at}.renamed_classes[${j}].from`,
        });
      }
      if (live.has(r.to)) {
        throw new ProjectError(`cannot rename ${r.from} to ${r.to}: class ${r.to} already exists`, {
          file,
          field: `${at}.renamed_classes[${j}].to`,
        });
      }
      live.delete(r.from);
      live.add(r.to);
    });
    (m.deleted_classes ?? []).forEach((c, j) => {
      if (!live.has(c)) {
        throw new ProjectError(`cannot delete class ${c}: no earlier migration creates it`, {
          file,
          field: `${at}.deleted_classes[${j}]`,
        });
      }
      live.delete(c);
      deletedAt.set(c, `${at}.deleted_classes[${j}]`);
    });
  });
  for (const c of boundClasses) {
    const field = deletedAt.get(c);
    if (field) {
      throw new ProjectError(
        `class ${c} is still bound in durable_objects.bindings, but this migration deletes it`,
        {
          file,
          field,
        },
      );
    }
  }
}
