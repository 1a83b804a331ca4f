import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readJsonArray, writeJsonFile } from "../shared/json-file.ts";

/** One saved version of a class's code: the source file that declares it, by content. */
export interface ClassVersion {
  /** SHA-256 of the file's text, as 64 hex digits; the UI shows its first 8. */
  hash: string;
  className: string;
  /** The file, relative to the project folder, with "/". */
  file: string;
  bytes: number;
  /** When this content was first seen running (or last seen again after another version). */
  savedAt: number;
  /** How it came to run: the engine started, a saved change, a rollback. */
  cause: "start" | "update" | "rollback";
}

export const VERSION_HASH = /^[0-9a-f]{64}$/;

export function versionHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * Every version of every class's code the engine ran, kept in the data
 * folder: the texts content-addressed under `<data>/versions/blobs/<hash>`,
 * and per class its history (`<data>/versions/<Class>.json`, oldest first).
 * A version that comes back (a rollback, an undo in the editor) is added
 * again at the end of the history, pointing at the same blob.
 */
export class ClassVersions {
  readonly #root: string;

  constructor(dataDir: string) {
    this.#root = join(dataDir, "versions");
  }

  #historyFile(className: string): string {
    return join(this.#root, `${className}.json`);
  }

  /** A class's versions, oldest first. */
  history(className: string): ClassVersion[] {
    return readJsonArray<ClassVersion>(this.#historyFile(className)).filter((v) => VERSION_HASH.test(v.hash));
  }

  /** The version a class runs now (the last one recorded). */
  current(className: string): ClassVersion | null {
    return this.history(className).at(-1) ?? null;
  }

  /**
   * Records that `className` runs `text` (from `file`) from now on; no new
   * entry when that is already its current version. Returns the version.
   */
  record(
    className: string,
    file: string,
    text: string,
    time: number,
    cause: ClassVersion["cause"],
  ): ClassVersion {
    const hash = versionHash(text);
    const history = this.history(className);
    const last = history.at(-1);
    if (last && last.hash === hash && last.file === file) return last;
    const blob = join(this.#root, "blobs", hash);
    if (!existsSync(blob)) {
      mkdirSync(join(this.#root, "blobs"), { recursive: true });
      const tmp = `${blob}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, blob);
    }
    const v: ClassVersion = { hash, className, file, bytes: Buffer.byteLength(text), savedAt: time, cause };
    writeJsonFile(this.#historyFile(className), [...history, v], 2);
    return v;
  }

  /** A version's text; throws when the blob is missing or does not match its hash. */
  text(hash: string): string {
    if (!VERSION_HASH.test(hash)) throw new Error(`not a version hash: ${hash}`);
    let text: string;
    try {
      text = readFileSync(join(this.#root, "blobs", hash), "utf8");
    } catch {
      throw new Error(`version ${hash.slice(0, 8)} is not in the data folder`);
    }
    if (versionHash(text) !== hash) throw new Error(`version ${hash.slice(0, 8)} is damaged on disk`);
    return text;
  }

  /** Moves a class's history to its new name (the class was renamed). */
  rename(from: string, to: string): void {
    const history = this.history(from);
    if (history.length === 0) return;
    writeJsonFile(
      this.#historyFile(to),
      history.map((v) => ({ ...v, className: to })),
      2,
    );
    writeJsonFile(this.#historyFile(from), []);
  }
}
