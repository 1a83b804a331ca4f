import type { WorkerHost } from "../host/worker-host.ts";
import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { Clock } from "../shared/clock.ts";
import type { LifecycleState } from "../shared/lifecycle-model.ts";
import type { StateManager } from "../state/state-manager.ts";
import { busy, pinnedByWorker, policyOf, type LifecycleOptions, type LiveObject } from "./live.ts";
import type { WorkerPool } from "./pool.ts";
import type { ObjectSockets } from "./sockets.ts";

/** Nothing in flight for this long ends a Processing span. */
const SPAN_GAP_MS = 50;

/** What bringing objects to rest needs of the Lifecycle Manager. */
export interface HibernationDeps {
  readonly live: Map<string, LiveObject>;
  readonly registry: Pick<ServiceRegistry, "touch">;
  readonly state: Pick<StateManager, "storageBytes">;
  readonly sockets: Pick<ObjectSockets, "pinsObject" | "hibernated">;
  readonly pool: Pick<WorkerPool, "waiting" | "supply" | "slot" | "assign" | "offer">;
  readonly clock: Clock;
  /** Read at each sweep: setPolicies changes them in place. */
  readonly options: Pick<LifecycleOptions, "policy" | "classPolicies">;
  transition(rec: ObjectRecord, to: LifecycleState, cause: string): void;
  /** The sweep's first step: shard groups scale (sharding.ts). */
  scale(now: number): void;
}

/**
 * Objects coming to rest: an event begins a Processing span, which the
 * sweeper ends once nothing has been in flight for SPAN_GAP_MS (steady
 * traffic is one span, not two transitions per request); an object with no
 * events goes Idle after its class's idleAfterMs, and Hibernating after
 * hibernateAfterMs more, unless a WebSocket pins it or a stream is open.
 * Hibernating an object ends its instance and hands its worker back,
 * deactivated, for the pool to reuse; its storage stays.
 */
export class Hibernation {
  readonly #deps: HibernationDeps;

  constructor(deps: HibernationDeps) {
    this.#deps = deps;
  }

  /** An event starts on `live`: it is Processing (a span already open takes it). */
  beginProcessing(live: LiveObject, cause: string): void {
    const rec = live.record;
    if (rec.state === "Idle") this.#deps.transition(rec, "Active", cause);
    if (rec.state === "Active") {
      this.#deps.transition(rec, "Processing", cause);
      live.spanRequests = 0;
    }
    live.spanRequests++;
  }

  /** Ends `live`'s Processing span if nothing is in flight (then a pending Scaling shows). */
  endSpan(live: LiveObject): void {
    const { transition } = this.#deps;
    if (live.record.state !== "Processing" || busy(live)) return;
    const n = live.spanRequests;
    transition(live.record, "Active", `${n} event${n === 1 ? "" : "s"} done`);
    live.spanRequests = 0;
    if (live.pendingScaling) {
      transition(live.record, "Scaling", live.pendingScaling);
      transition(live.record, "Active", "shards rebalanced");
      live.pendingScaling = null;
    }
  }

  /** Idle and hibernation timeouts; runs on the clock. */
  sweep(): void {
    const { clock, live: lives, options, sockets, pool, transition } = this.#deps;
    const now = clock.now();
    this.#deps.scale(now);
    for (const live of [...lives.values()]) {
      const rec = live.record;
      if (!live.host || busy(live) || live.starting) continue;
      if (rec.state === "Processing") {
        if (now - live.lastEventAt < SPAN_GAP_MS) continue;
        this.endSpan(live);
      }
      const policy = policyOf(options, rec.className);
      if (rec.state === "Active" && now - live.lastEventAt >= policy.idleAfterMs) {
        transition(rec, "Idle", `no requests for ${policy.idleAfterMs} ms`);
        live.idleSince = now;
      } else if (
        rec.state === "Idle" &&
        now - live.idleSince >= policy.hibernateAfterMs &&
        !sockets.pinsObject(rec.id) &&
        !pinnedByWorker(live)
      ) {
        void this.hibernate(rec.id, `idle for ${policy.hibernateAfterMs} ms`);
      }
    }
    // Objects that just went Idle can lend their workers to objects waiting for one.
    if (pool.waiting > 0) pool.supply();
  }

  /** Ends an object's worker and leaves it Hibernating (storage kept); the worker goes back to the pool. */
  async hibernate(id: string, cause: string): Promise<boolean> {
    const host = await this.lend(id, cause);
    if (!host) return false;
    this.#deps.pool.offer(host);
    return true;
  }

  /** Hibernates an object and hands back its worker, deactivated and reusable (or null): an Idle object lends it (pool.ts). */
  async lend(id: string, cause: string): Promise<WorkerHost | null> {
    const { live: lives, registry, state, sockets, pool, transition } = this.#deps;
    const live = lives.get(id);
    if (!live || !live.host || live.starting || busy(live)) return null;
    this.endSpan(live);
    const rec = live.record;
    if (rec.state !== "Active" && rec.state !== "Idle") return null;
    if (rec.state === "Active") transition(rec, "Idle", cause);
    const host = live.host;
    live.host = null;
    live.generation++;
    transition(rec, "Hibernating", cause);
    lives.delete(id);
    sockets.hibernated(id);
    rec.storageBytes = state.storageBytes(rec.className, rec.id);
    registry.touch(rec);
    const slot = pool.slot(host);
    try {
      await host.call((api) => api.deactivate());
    } catch {
      void host.stop();
      return null;
    }
    if (slot) pool.assign(slot, null);
    return host.alive ? host : null;
  }
}
