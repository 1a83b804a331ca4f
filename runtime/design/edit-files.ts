import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { applyEdits, modify, type FormattingOptions } from "jsonc-parser";
import type { Migration } from "../config/wrangler.ts";

// Shared by the Design view's edits to a project (add, rename and delete a
// class; routes, subscriptions and policies): edits that keep the user's
// comments and formatting, and writes that land all together or not at all.

export const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const FORMAT: FormattingOptions = { tabSize: 2, insertSpaces: true, eol: "\n" };

/** `text` (JSON with comments) with the value at `path` set, inserted (arrays) or, with undefined, removed. */
export function editJsonc(text: string, path: (string | number)[], value: unknown, insert = false): string {
  return applyEdits(text, modify(text, path, value, { formattingOptions: FORMAT, isArrayInsertion: insert }));
}

/** terrarium.json's path in a project folder, and its text (`{}` when the project has none yet). */
export function terrariumText(projectDir: string): { path: string; text: string } {
  const path = join(projectDir, "terrarium.json");
  return { path, text: existsSync(path) ? readFileSync(path, "utf8") : "{}\n" };
}

/** The next migration tag after the project's own: v<N+1>, skipping tags in use. */
export function nextMigrationTag(migrations: readonly Migration[]): string {
  const tags = new Set(migrations.map((m) => m.tag));
  let n = migrations.length + 1;
  while (tags.has(`v${n}`)) n++;
  return `v${n}`;
}

/** A wrangler config with one more migration appended, comments kept (TOML: as a table at the end). */
export function appendMigration(
  configPath: string,
  text: string,
  migration: Record<string, unknown>,
): string {
  if (extname(configPath) === ".toml") {
    const lines = Object.entries(migration).map(([k, v]) => `${k} = ${tomlValue(v)}`);
    return `${text.replace(/\s*$/, "\n")}\n[[migrations]]\n${lines.join("\n")}\n`;
  }
  const hasMigrations = /"migrations"\s*:/.test(text);
  return hasMigrations
    ? editJsonc(text, ["migrations", -1], migration, true)
    : editJsonc(text, ["migrations"], [migration]);
}

function tomlValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(", ")}]`;
  if (v && typeof v === "object")
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${k} = ${tomlValue(x)}`)
      .join(", ")} }`;
  return String(v);
}

/**
 * Writes every file (text, or null to delete it), then runs `check`; if a
 * write or the check fails, every file is put back as it was and the error
 * is rethrown.
 */
export function writeAllOrNothing<T>(writes: readonly [string, string | null][], check: () => T): T {
  const previous = new Map<string, string | null>(
    writes.map(([p]) => [p, existsSync(p) ? readFileSync(p, "utf8") : null]),
  );
  try {
    for (const [p, text] of writes) {
      if (text === null) rmSync(p, { force: true });
      else {
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, text);
      }
    }
    return check();
  } catch (e) {
    for (const [p, text] of previous) {
      if (text === null) rmSync(p, { force: true });
      else writeFileSync(p, text);
    }
    throw e;
  }
}
