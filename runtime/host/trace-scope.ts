import { AsyncLocalStorage } from "node:async_hooks";
import type { TraceContext } from "../shared/trace-context.ts";

/**
 * Inside a worker: the traced span the running code belongs to
 * (docs/traces.md). The orchestrator hands it with each traced event; it
 * follows the event's code through its awaits, so a call the code makes
 * outward (a stub's fetch or RPC, a publish, a queue send, a mock fetch, a
 * console line) carries it back, even with several events interleaved on
 * one object. Untraced events never enter the scope.
 */
const scope = new AsyncLocalStorage<TraceContext>();

/** Runs `fn` under `trace` (as is when there is none). */
export function underTrace<T>(trace: TraceContext | undefined, fn: () => T): T {
  return trace ? scope.run(trace, fn) : fn();
}

/** The span the running code belongs to, if it is traced. */
export function currentTrace(): TraceContext | undefined {
  return scope.getStore();
}
