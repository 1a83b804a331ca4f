import { join } from "node:path";
import { pathToFileURL } from "node:url";

let tsxRegistered = false;

/**
 * Loads a module of the engine from its TypeScript sources under `appRoot`,
 * as the CLI does (tsx compiles them on load): its bundler and object
 * workers find their files relative to those sources, so they are not
 * bundled into the app. Used by the main process and the engine's utility
 * process, each registering tsx once.
 */
export async function runtimeModule<T>(appRoot: string, ...path: string[]): Promise<T> {
  if (!tsxRegistered) {
    const { register } = await import("tsx/esm/api");
    register();
    tsxRegistered = true;
  }
  return (await import(pathToFileURL(join(appRoot, "runtime", ...path)).href)) as T;
}
