import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { applyEdits, findNodeAtLocation, modify, parseTree, type FormattingOptions } from "jsonc-parser";
import type { Migration } from "../config/wrangler.ts";

// Shared by the Design view's edits to a project (add, rename and delete a
// class; routes, subscriptions and policies): edits that keep the user's
// comments and formatting, and writes that land all together or not at all.

export const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const FORMAT: FormattingOptions = { tabSize: 2, insertSpaces: true, eol: "\n" };

/**
 * `text` (JSON with comments) with the value at `path` set, inserted (arrays)
 * or, with undefined, removed. An entry added at the end of a non-empty array
 * or object is written in the style of the entry before it (one line after a
 * one-line entry, a block after a block) and nothing else in the file moves.
 */
export function editJsonc(text: string, path: (string | number)[], value: unknown, insert = false): string {
  if (value !== undefined) {
    const appended = appendLikeSiblings(text, path, value, insert);
    if (appended !== null) return appended;
  }
  return applyEdits(text, modify(text, path, value, { formattingOptions: FORMAT, isArrayInsertion: insert }));
}

/** `{ "a": 1, "b": [1, 2] }`: one line, with the spacing people write by hand. */
function oneLine(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(oneLine).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    return entries.length
      ? `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${oneLine(x)}`).join(", ")} }`
      : "{}";
  }
  return JSON.stringify(v);
}

/**
 * Appends `value` as the last entry of the array or object that `path`
 * names (its last step: -1 with `insert` for an array, a new key for an
 * object), by inserting text after the last entry there; null when that is
 * not the edit (an empty container, a key that exists, a missing parent),
 * which jsonc-parser's `modify` then does.
 */
function appendLikeSiblings(
  text: string,
  path: (string | number)[],
  value: unknown,
  insert: boolean,
): string | null {
  const last = path.at(-1);
  const parentPath = path.slice(0, -1);
  const root = parseTree(text);
  if (!root) return null;
  const parent = parentPath.length ? findNodeAtLocation(root, parentPath) : root;
  if (!parent?.children?.length) return null;
  let entry: string;
  if (parent.type === "array" && insert && last === -1) entry = "";
  else if (parent.type === "object" && typeof last === "string") {
    if (parent.children.some((p) => p.children?.[0]?.value === last)) return null;
    entry = `${JSON.stringify(last)}: `;
  } else return null;
  const prev = parent.children.at(-1)!;
  const prevEnd = prev.offset + prev.length;
  const prevText = text.slice(prev.offset, prevEnd);
  const lineStart = text.lastIndexOf("\n", prev.offset) + 1;
  const sameLineAsParent = !text.slice(parent.offset, prev.offset).includes("\n");
  const indent = /^\s*/.exec(text.slice(lineStart, prev.offset))![0];
  const block = JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);
  entry += prevText.includes("\n") ? block : oneLine(value);
  // A trailing comma after the last entry (JSONC allows one) is kept, and the new entry gets one too.
  const after = /^(\s*(?:\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*),/.exec(text.slice(prevEnd));
  if (sameLineAsParent) {
    return after
      ? `${text.slice(0, prevEnd + after[0].length)} ${entry},${text.slice(prevEnd + after[0].length)}`
      : `${text.slice(0, prevEnd)}, ${entry}${text.slice(prevEnd)}`;
  }
  return after
    ? `${text.slice(0, prevEnd + after[0].length)}\n${indent}${entry},${text.slice(prevEnd + after[0].length)}`
    : `${text.slice(0, prevEnd)},\n${indent}${entry}${text.slice(prevEnd)}`;
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
