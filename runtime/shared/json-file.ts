import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** The array a JSON file holds; empty when the file is missing, unreadable or holds something else. */
export function readJsonArray<T>(file: string): T[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    return Array.isArray(parsed) ? (parsed as T[]) : [];
  } catch {
    return [];
  }
}

/**
 * Writes `value` as JSON beside `file` and renames it into place, so a crash
 * leaves the old file or the new one, never half of one.
 */
export function writeJsonFile(file: string, value: unknown, space?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, space));
  renameSync(tmp, file);
}
