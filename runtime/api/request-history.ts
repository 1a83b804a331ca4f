import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { readJsonArray, writeJsonFile } from "../shared/json-file.ts";
import type { HistoryEntry, HistoryEntryInput } from "./contract.ts";

/** How many requests the console remembers per project. */
export const HISTORY_LIMIT = 200;

/**
 * The console's request history: a JSON file in the project's data folder,
 * newest first, rewritten whole (it is small) through a rename so a crash
 * never leaves half a file.
 */
export class RequestHistory {
  readonly #file: string;

  constructor(dataDir: string) {
    this.#file = join(dataDir, "console-history.json");
  }

  list(): HistoryEntry[] {
    return readJsonArray<HistoryEntry>(this.#file);
  }

  add(entry: HistoryEntryInput): HistoryEntry {
    const saved: HistoryEntry = { id: randomUUID(), ...entry };
    writeJsonFile(this.#file, [saved, ...this.list()].slice(0, HISTORY_LIMIT));
    return saved;
  }

  clear(): void {
    rmSync(this.#file, { force: true });
  }
}
