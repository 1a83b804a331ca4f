import type { ShardingPolicyConfig } from "../config/terrarium.ts";
import type { ObjectRecord } from "../registry/registry.ts";
import { errorText } from "../shared/errors.ts";
import { idFromName, type NamespaceKey } from "../shared/ids.ts";
import type { LifecycleState } from "../shared/lifecycle-model.ts";
import { shardObjectName } from "../shared/sharding.ts";
import type { LiveObject } from "./live.ts";
import {
  decide,
  freshScalerMemory,
  nameForKey,
  resolvePolicy,
  shardNames,
  type ScalerView,
  type ShardGroup,
  type ShardingPolicy,
} from "./scaler.ts";

/** A sharded object name as the load view shows it. */
export interface ShardGroupView {
  className: string;
  base: string;
  shards: number;
  names: string[];
  seen: ScalerView | null;
}

/** What scaling needs of the Lifecycle Manager. */
export interface ShardingHub {
  readonly live: ReadonlyMap<string, LiveObject>;
  key(className: string): NamespaceKey;
  transition(rec: ObjectRecord, to: LifecycleState, cause: string): void;
  /** Creates (or wakes) an object without an event: a new shard. */
  warm(className: string, id: string, name: string, cause: string): Promise<void>;
  error(message: string): void;
}

/**
 * The Scaling state: each class's sharding policy (terrarium.json), and for
 * each sharded object name its shards (a group) and the scaler's memory.
 * A routed request asks `target` which shard its key goes to; the sweeper
 * calls `scale`, which adds or removes shards as load passes the target
 * (scaler.ts decides) and gives each live shard its Scaling step.
 */
export class Sharding {
  readonly #hub: ShardingHub;
  #policies = new Map<string, ShardingPolicy>();
  readonly #groups = new Map<string, ShardGroup>();

  constructor(hub: ShardingHub) {
    this.#hub = hub;
  }

  /** New policies (terrarium.json changed): groups of a class no longer sharded go. */
  set(policies: Record<string, ShardingPolicyConfig>): void {
    this.#policies = new Map(Object.entries(policies).map(([c, p]) => [c, resolvePolicy(p)]));
    for (const [k, g] of this.#groups) {
      const p = this.#policies.get(g.className);
      if (!p) this.#groups.delete(k);
      else {
        g.policy = p;
        g.shards = Math.min(p.maxShards, Math.max(p.minShards, g.shards));
      }
    }
  }

  /**
   * The object a routed request goes to: the route's object itself, or, for
   * a sharded class, the shard its key hashes to at the current shard count.
   */
  target(className: string, binding: string, base: string, expand: (template: string) => string): string {
    const policy = this.#policies.get(className);
    if (!policy) return base;
    const key = `${className}\u0000${base}`;
    let group = this.#groups.get(key);
    if (!group) {
      group = { className, binding, base, policy, shards: policy.minShards, ...freshScalerMemory() };
      this.#groups.set(key, group);
    }
    return nameForKey(group, expand(policy.key));
  }

  groups(): ShardGroupView[] {
    return [...this.#groups.values()].map((g) => ({
      className: g.className,
      base: g.base,
      shards: g.shards,
      names: shardNames(g),
      seen: g.seen && { ...g.seen },
    }));
  }

  /** Looks at each group's load and scales it up or down when the scaler says so. */
  scale(now: number): void {
    const hub = this.#hub;
    for (const group of this.#groups.values()) {
      const names = shardNames(group);
      const ns = hub.key(group.className);
      const ids = names.map((n) => idFromName(ns, n));
      const total = ids.reduce((sum, id) => sum + (hub.live.get(id)?.inFlight ?? 0), 0);
      const d = decide(group, total / group.shards, now);
      if (!d) continue;
      group.shards = d.to;
      const cause = `scaling ${group.base} from ${d.from} to ${d.to} shards: ${d.reason}`;
      for (const id of ids.slice(0, d.to)) {
        const live = hub.live.get(id);
        if (!live?.host) continue;
        if (live.record.state === "Active") {
          hub.transition(live.record, "Scaling", cause);
          hub.transition(live.record, "Active", "shards rebalanced");
        } else {
          // Busy shards take their Scaling step when their Processing span ends.
          live.pendingScaling = live.pendingScaling ? `${live.pendingScaling}; then ${cause}` : cause;
        }
      }
      if (d.change === "up") {
        const name = shardObjectName(group.base, group.policy.shardName, d.to - 1);
        void hub
          .warm(group.className, idFromName(ns, name), name, cause)
          .catch((e: unknown) => hub.error(`could not start shard ${name}: ${errorText(e)}`));
      }
    }
  }

  get size(): number {
    return this.#groups.size;
  }
}
