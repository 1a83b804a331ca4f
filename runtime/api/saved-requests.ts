import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { readJsonArray, writeJsonFile } from "../shared/json-file.ts";
import type { HttpRequestSpec, SavedRequest } from "./contract.ts";

/** How many requests one project may keep saved. */
export const SAVED_LIMIT = 1_000;

/**
 * The console's saved requests: a JSON file in the project's data folder,
 * sorted by name, rewritten whole through a rename (as the history is) so a
 * crash never leaves half a file. Names are unique, compared without case.
 */
export class SavedRequests {
  readonly #file: string;
  readonly #now: () => number;

  constructor(dataDir: string, now: () => number = Date.now) {
    this.#file = join(dataDir, "console-saved.json");
    this.#now = now;
  }

  list(): SavedRequest[] {
    return readJsonArray<SavedRequest>(this.#file);
  }

  /** Saves under `name`, replacing the request saved under that name if there is one. */
  save(name: string, request: HttpRequestSpec): SavedRequest {
    const all = this.list();
    const i = all.findIndex((s) => same(s.name, name));
    const saved: SavedRequest = { id: all[i]?.id ?? randomUUID(), name, request, savedAt: this.#now() };
    if (i >= 0) all[i] = saved;
    else if (all.length >= SAVED_LIMIT)
      throw new Error(`a project keeps at most ${SAVED_LIMIT} saved requests; delete some first`);
    else all.push(saved);
    this.#write(all);
    return saved;
  }

  rename(id: string, name: string): SavedRequest {
    const all = this.list();
    const target = all.find((s) => s.id === id);
    if (!target) throw new Error("no saved request with that id");
    if (all.some((s) => s.id !== id && same(s.name, name)))
      throw new Error(`a request is already saved as "${name}"`);
    const renamed = { ...target, name };
    this.#write(all.map((s) => (s.id === id ? renamed : s)));
    return renamed;
  }

  delete(id: string): boolean {
    const all = this.list();
    const rest = all.filter((s) => s.id !== id);
    if (rest.length === all.length) return false;
    this.#write(rest);
    return true;
  }

  #write(entries: SavedRequest[]): void {
    entries.sort((a, b) => a.name.localeCompare(b.name));
    writeJsonFile(this.#file, entries, 1);
  }
}

function same(a: string, b: string): boolean {
  return a.localeCompare(b, undefined, { sensitivity: "accent" }) === 0;
}
