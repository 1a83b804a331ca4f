import { totalmem } from "node:os";
import type { ObjectRecord } from "../registry/registry.ts";
import type { CodeSpec } from "../host/protocol.ts";
import type { WorkerHost } from "../host/worker-host.ts";
import { ObjectError } from "../shared/errors.ts";
import type { TraceContext } from "../shared/trace-context.ts";

// What the parts of the Lifecycle Manager (lifecycle.ts, pool.ts,
// code-update.ts, sharding.ts) share: the options, a code version, and an
// object's place in the orchestrator while it has a worker.

export interface LifecyclePolicy {
  /** Active with nothing in flight for this long -> Idle. */
  idleAfterMs: number;
  /** Idle for this long -> Hibernating. Cloudflare evicts an idle object after about 10 s. */
  hibernateAfterMs: number;
}

export interface LifecycleOptions {
  policy: LifecyclePolicy;
  classPolicies: Record<string, Partial<LifecyclePolicy>>;
  /** Live workers past which the least recently used idle objects hibernate early. */
  maxLiveObjects: number;
  /** Pre-started workers holding the current code, ready to take on an object's identity. */
  poolSize: number;
  /** CPU time one request or event may take before the object is ended (Cloudflare: 30 s). */
  cpuLimitMs: number;
  /**
   * Wall-clock time after which a request or event that has not answered
   * fails with the reason, so a hang is never silent. The event itself is
   * not cancelled: the object stays Processing until it ends.
   */
  answerTimeoutMs: number;
  /** V8 heap limit per object worker. */
  memoryLimitMb: number;
  /**
   * Wall-clock time a blockConcurrencyWhile callback may hold the object
   * before the object is reset, the call and the events behind it failing
   * (workerd: 30 s).
   */
  blockConcurrencyTimeoutMs: number;
  entryWorkers: number;
}

export function defaultLifecycleOptions(): LifecycleOptions {
  // About 16 MB per live worker budgeted against a quarter of the machine.
  const byMemory = Math.floor(totalmem() / 4 / (16 * 1024 * 1024));
  return {
    policy: { idleAfterMs: 1_000, hibernateAfterMs: 10_000 },
    classPolicies: {},
    maxLiveObjects: Math.max(16, Math.min(byMemory, 1000)),
    poolSize: 4,
    cpuLimitMs: 30_000,
    answerTimeoutMs: 60_000,
    memoryLimitMb: 128,
    blockConcurrencyTimeoutMs: 30_000,
    entryWorkers: 1,
  };
}

/** The idle and hibernation timeouts of one class: the project's, then the class's own. */
export function policyOf(
  opts: Pick<LifecycleOptions, "policy" | "classPolicies">,
  className: string,
): LifecyclePolicy {
  return { ...opts.policy, ...opts.classPolicies[className] };
}

export interface CodeVersion {
  spec: CodeSpec;
  hostFile: string;
  entryFile: string;
  bindings: Map<string, string>;
}

/** An object's place in the orchestrator while it has (or is getting) a worker. */
export interface LiveObject {
  record: ObjectRecord;
  host: WorkerHost | null;
  starting: Promise<WorkerHost> | null;
  inFlight: number;
  spanRequests: number;
  lastEventAt: number;
  idleSince: number;
  /** Bumped when the worker is lost or retired, so late completions of old calls change nothing. */
  generation: number;
  /** Watchdog bookkeeping: how long the worker's loop has been continuously busy. */
  busy: { at: number; active: number; run: number } | null;
  killedFor: string | null;
  /** Set while the object moves to new code; new events wait for it. */
  updating: Promise<void> | null;
  /** A Scaling transition owed once the current Processing span ends. */
  pendingScaling: string | null;
  /** Workers that have had a call to the object in flight on a direct line for a while (they report it). */
  directBusy: Set<WorkerHost>;
  /** Response bodies the object is streaming now (its worker reports them): it stays awake meanwhile. */
  streams: number;
  /**
   * Stubs to the object's functions and RpcTargets that other objects or
   * Workers hold and have not disposed (its worker reports them): it stays
   * awake meanwhile, as on workerd, so calls on them keep working.
   */
  heldStubs: number;
}

/** An object's place as it starts to need a worker (it has none yet). */
export function freshLive(record: ObjectRecord, now: number): LiveObject {
  return {
    record,
    host: null,
    starting: null,
    inFlight: 0,
    spanRequests: 0,
    lastEventAt: now,
    idleSince: now,
    generation: 0,
    busy: null,
    killedFor: null,
    updating: null,
    pendingScaling: null,
    directBusy: new Set(),
    streams: 0,
    heldStubs: 0,
  };
}

/** One event to run on an object (LifecycleManager.run): what it is, for transitions, counts and spans. */
export interface Dispatch {
  binding?: string;
  className: string;
  id: string;
  name: string | null;
  kind: "fetch" | "rpc" | "alarm" | "event";
  cause: string;
  /**
   * The span the event is run under (docs/traces.md); null: it starts a
   * trace of its own (an alarm, a delivery no traced request caused);
   * absent: it is not traced.
   */
  trace?: TraceContext | null | undefined;
}

/** Whether an object has an event in flight, on its worker or on a direct line into it. */
export function busy(l: LiveObject): boolean {
  return l.inFlight > 0 || l.directBusy.size > 0;
}

/**
 * What the object's worker reports holding it awake, as on workerd: response
 * bodies it is streaming, stubs to its targets held elsewhere. Such an object
 * neither hibernates, lends its worker, nor is evicted by the live cap.
 */
export function pinnedByWorker(l: LiveObject): boolean {
  return l.streams > 0 || l.heldStubs > 0;
}

/** Objects holding a worker, or about to. */
export function countLive(live: Iterable<LiveObject>): number {
  let n = 0;
  for (const l of live) if (l.host || l.starting) n++;
  return n;
}

/** Objects with an event in flight (or starting to take one). */
export function countBusy(live: Iterable<LiveObject>): number {
  let n = 0;
  for (const l of live) if (busy(l) || l.starting) n++;
  return n;
}

export { ObjectError };

/** The project's main module threw while it loaded; every event on that code fails with this. */
export class ModuleLoadError extends ObjectError {
  override name = "ModuleLoadError";
  constructor(readonly reason: string) {
    super(`the Worker's main module threw while loading: ${reason}`, 500);
  }
}

export function exitText(exit: { code: number; error: Error | null }): string {
  return exit.error ? `${exit.error.name}: ${exit.error.message}` : `worker exited with code ${exit.code}`;
}
