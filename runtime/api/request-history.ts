import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.#file, "utf8"));
      return Array.isArray(parsed) ? (parsed as HistoryEntry[]) : [];
    } catch {
      return [];
    }
  }

  add(entry: HistoryEntryInput): HistoryEntry {
    const saved: HistoryEntry = { id: randomUUID(), ...entry };
    this.#write([saved, ...this.list()].slice(0, HISTORY_LIMIT));
    return saved;
  }

  clear(): void {
    rmSync(this.#file, { force: true });
  }

  #write(entries: HistoryEntry[]): void {
    mkdirSync(join(this.#file, ".."), { recursive: true });
    const tmp = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(entries));
    renameSync(tmp, this.#file);
  }
}
