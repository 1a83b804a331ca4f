/**
 * What the worker thread (runtime/host/load-bundle.ts) hands to Terrarium's
 * `cloudflare:*` modules through `globalThis.__terrarium`, before the
 * project's code loads. Bundled into the project's code: no Node APIs here.
 */
export interface TerrariumHost {
  /** The project's bindings and vars. */
  env: Record<string, unknown>;
  /** The Durable Object namespaces by class name (`exports` from cloudflare:workers). */
  exports: Record<string, unknown>;
  /** The env and exports `withEnv`/`withExports` set for the running call, else the project's. */
  current(): { env: Record<string, unknown>; exports: Record<string, unknown> };
  /** Runs `fn` with another env and exports in effect for everything it starts. */
  runWith<T>(scope: { env: Record<string, unknown>; exports: Record<string, unknown> }, fn: () => T): T;
  /** The running event's `ctx.waitUntil`. */
  waitUntil(promise: Promise<unknown>): void;
}

export function terrariumHost(): TerrariumHost | undefined {
  return (globalThis as { __terrarium?: TerrariumHost }).__terrarium;
}
