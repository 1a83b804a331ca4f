import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

/**
 * better-sqlite3 is a native module, built for one ABI. `npm install` builds
 * it for Node's (the CLI, the web UI, the tests); the desktop app runs in
 * Electron's, so scripts/build-sqlite-electron.js builds a second copy for
 * Electron under node_modules/.cache/terrarium, the Electron main process
 * names it in TERRARIUM_SQLITE_BINDING, and every database Terrarium opens
 * (main process and workers alike) loads the copy for the runtime it is in.
 * No manual rebuild, and neither build breaks the other.
 */

export const SQLITE_BINDING_ENV = "TERRARIUM_SQLITE_BINDING";

/** Where the Electron build of better-sqlite3 for an ABI (process.versions.modules) lives. */
export function electronBindingPath(repoRoot: string, modulesAbi: string): string {
  return join(
    repoRoot,
    "node_modules",
    ".cache",
    "terrarium",
    `better-sqlite3-electron-abi${modulesAbi}`,
    "better_sqlite3.node",
  );
}

/**
 * The native binding to load in this runtime: undefined under Node (the
 * package's own build); under Electron, the build TERRARIUM_SQLITE_BINDING
 * names, or an error saying how to make it.
 */
export function nativeBinding(
  versions: NodeJS.ProcessVersions = process.versions,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const electron = (versions as { electron?: string }).electron;
  if (!electron) return undefined;
  const path = env[SQLITE_BINDING_ENV];
  if (!path || !existsSync(path)) {
    throw new Error(
      `better-sqlite3 is not built for Electron ${electron} (ABI ${versions.modules})` +
        (path ? ` at ${path}` : "") +
        "; run `npm run rebuild:electron` (it compiles it from source beside the Node build)",
    );
  }
  return path;
}

let binding: string | undefined | null = null;

/** Opens a SQLite database with the native module built for this runtime. */
export function openSqlite(path: string, options: Database.Options = {}): Database.Database {
  if (binding === null) binding = nativeBinding();
  return new Database(path, binding === undefined ? options : { ...options, nativeBinding: binding });
}
