import { watch, type FSWatcher } from "node:fs";
import { join } from "node:path";

/** How long the watcher waits after the last change before it reloads (an editor's save is several events). */
const SETTLE_MS = 150;

/**
 * Watches a project's sources and config: after a change (and SETTLE_MS of
 * quiet) calls `changed`. The data folder, node_modules, .git and
 * .terrarium are not watched. `close` stops it, a pending call included.
 */
export function watchProject(dir: string, dataDir: string, changed: () => void): { close(): void } {
  let timer: NodeJS.Timeout | null = null;
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, file) => {
    if (!file) return;
    const abs = join(dir, file.toString());
    if (abs.startsWith(dataDir) || /(^|[/\\])(node_modules|\.git|\.terrarium)([/\\]|$)/.test(file.toString()))
      return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      changed();
    }, SETTLE_MS);
  });
  return {
    close() {
      watcher.close();
      if (timer) clearTimeout(timer);
    },
  };
}
