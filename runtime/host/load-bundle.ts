import { currentTrace } from "./trace-scope.ts";
import { AsyncLocalStorage } from "node:async_hooks";
import { pathToFileURL } from "node:url";
import type * as Comlink from "comlink";
import { installMockFetch } from "../bindings/mock-fetch.ts";
import type { TerrariumHost } from "../workers-api/host.ts";
import { installWorkersGlobals } from "./globals.ts";
import { installOutboundFetch } from "./outbound-fetch.ts";
import type { CodeSpec, GatewayApi } from "./protocol.ts";

/** One version of the project's code, loaded in this thread. */
export interface Loaded {
  spec: CodeSpec;
  module: Record<string, unknown>;
  env: Record<string, unknown>;
}

export function exportedClasses(module: Record<string, unknown>): string[] {
  return Object.keys(module).filter((k) => typeof module[k] === "function");
}

/**
 * Imports the bundle `spec` names, with `env` built: first the globals its
 * code sees (mock endpoints on outbound fetch, the compatibility flags'
 * Workers globals) and `globalThis.__terrarium`, through which the
 * `cloudflare:*` modules reach env, exports and the running event's
 * `waitUntil` (given by the caller: the active object's, or the entry's).
 */
export async function loadBundle(
  spec: CodeSpec,
  env: Record<string, unknown>,
  gateway: Comlink.Remote<GatewayApi>,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Loaded> {
  installMockFetch(spec.mocks, (c) => {
    void gateway.mockCall(c, currentTrace());
    console.log(`mock ${c.method} ${c.url} -> ${c.status} (${Math.round(c.latencyMs)} ms)`);
  });
  installOutboundFetch();
  const exports: Record<string, unknown> = {};
  for (const b of spec.durableObjects) if (!b.scriptName) exports[b.className] ??= env[b.binding];
  installWorkersGlobals(spec.compatibilityFlags);
  const scope = new AsyncLocalStorage<{ env: Record<string, unknown>; exports: Record<string, unknown> }>();
  const base = { env, exports };
  const host: TerrariumHost = {
    env,
    exports,
    current: () => scope.getStore() ?? base,
    runWith: (s, fn) => scope.run(s, fn),
    waitUntil,
  };
  (globalThis as Record<string, unknown>).__terrarium = host;
  const module = (await import(pathToFileURL(spec.bundlePath).href)) as Record<string, unknown>;
  return { spec, module, env };
}
