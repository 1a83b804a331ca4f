import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { RECENT_IN_MENU, type MenuTemplate } from "./menu.ts";

// Projects as the desktop app's menu handles them: the templates a new
// project starts from, the recent list kept in Electron's userData folder.
// Plain Node, so it is tested without Electron.

/**
 * The samples a new project can start from, as the menu labels them; the ids
 * are runtime/templates/new-project.ts's SAMPLES (which `terrarium new` and
 * the menu both create projects with).
 */
export const PROJECT_TEMPLATES: readonly MenuTemplate[] = [
  { id: "counter", label: "Counter (one class)" },
  { id: "aidevos", label: "AIDevOS system (eight classes, D1, R2, Event Bus)" },
];

const WRANGLER_CONFIGS = ["wrangler.jsonc", "wrangler.json", "wrangler.toml"];

/** Whether a folder holds a wrangler config (what Terrarium opens as a project). */
export function isProjectFolder(dir: string): boolean {
  return WRANGLER_CONFIGS.some((f) => existsSync(join(dir, f)));
}

/**
 * The projects opened most recently, newest first, in a JSON file (in
 * Electron's userData folder). Folders that no longer hold a project are
 * left out when read.
 */
export class RecentProjects {
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  list(): string[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.#file, "utf8"));
    } catch {
      return [];
    }
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((d): d is string => typeof d === "string" && isProjectFolder(d));
  }

  add(dir: string): string[] {
    const abs = resolve(dir);
    const next = [abs, ...this.list().filter((d) => d !== abs)].slice(0, RECENT_IN_MENU);
    this.#write(next);
    return next;
  }

  clear(): void {
    this.#write([]);
  }

  #write(dirs: string[]): void {
    mkdirSync(dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(dirs, null, 1));
    renameSync(tmp, this.#file);
  }
}
