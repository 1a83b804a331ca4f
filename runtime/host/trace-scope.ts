import { AsyncLocalStorage } from "node:async_hooks";
import type { TraceContext } from "../shared/trace-context.ts";

/**
 * Inside a worker: the traced span the running code belongs to
 * (docs/traces.md). The orchestrator hands it with each traced event; it
 * follows the event's code through its awaits, so a call the code makes
 * outward (a stub's fetch or RPC, a publish, a queue send, a mock fetch, a
 * console line) carries it back, even with several events interleaved on
 * one object. Untraced events never enter the scope.
 *
 * The scope is an AsyncLocalStorage, and in Node 20 one that has been
 * entered makes its thread run promise hooks on every promise, traced or
 * not (about a tenth of a hot object's CPU per request, see docs/traces.md).
 * So it is turned off whenever no traced event is running in this thread,
 * and an untraced request in a thread where no traced one is running pays
 * nothing for it. What a traced event left running after it answered (a
 * `ctx.waitUntil` promise) keeps its span while another traced event runs,
 * and is untraced otherwise.
 */
const scope = new AsyncLocalStorage<TraceContext>();

/** Traced events running in this thread (the scope is on while there are any). */
let running = 0;

function ended(): void {
  if (--running === 0) scope.disable();
}

/** Runs `fn` under `trace` (as is when there is none). */
export function underTrace<T>(trace: TraceContext | undefined, fn: () => T): T {
  if (!trace) return fn();
  running++;
  let out: T;
  try {
    out = scope.run(trace, fn);
  } catch (e) {
    ended();
    throw e;
  }
  if (out instanceof Promise) out.then(ended, ended);
  else ended();
  return out;
}

/** The span the running code belongs to, if it is traced. */
export function currentTrace(): TraceContext | undefined {
  return scope.getStore();
}

/** Whether the scope is on (a traced event is running in this thread); for tests. */
export function traceScopeOn(): boolean {
  return running > 0;
}
