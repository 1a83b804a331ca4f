import type { ShardingPolicyConfig } from "../config/terrarium.ts";
import { parseDuration } from "../load/parse.ts";
import { shardObjectName, shardOf } from "../router/sharding.ts";

export interface ShardingPolicy {
  key: string;
  minShards: number;
  maxShards: number;
  targetInFlight: number;
  scaleUpAfterMs: number;
  scaleDownAfterMs: number;
  shardName: string;
}

export function resolvePolicy(p: ShardingPolicyConfig): ShardingPolicy {
  return {
    key: p.key,
    minShards: p.minShards,
    maxShards: p.maxShards,
    targetInFlight: p.targetInFlight,
    scaleUpAfterMs: p.scaleUpAfter === undefined ? 1_000 : parseDuration(p.scaleUpAfter),
    scaleDownAfterMs: p.scaleDownAfter === undefined ? 10_000 : parseDuration(p.scaleDownAfter),
    shardName: p.shardName,
  };
}

/** One sharded object name: its shards and the scaler's memory of recent load. */
export interface ShardGroup {
  className: string;
  binding: string;
  base: string;
  policy: ShardingPolicy;
  shards: number;
  overSince: number | null;
  underSince: number | null;
}

export type ScaleDecision = { change: "up" | "down"; from: number; to: number; reason: string } | null;

/**
 * The scaling rule, on whatever clock it is given: add a shard when the
 * shards' mean in-flight requests have stayed above the target for
 * scaleUpAfter; remove one when they have stayed below half the target for
 * scaleDownAfter; never leave [minShards, maxShards].
 */
export function decide(group: ShardGroup, meanInFlight: number, now: number): ScaleDecision {
  const p = group.policy;
  if (meanInFlight > p.targetInFlight) {
    group.underSince = null;
    group.overSince ??= now;
    if (now - group.overSince >= p.scaleUpAfterMs && group.shards < p.maxShards) {
      group.overSince = null;
      return {
        change: "up",
        from: group.shards,
        to: group.shards + 1,
        reason: `mean in-flight ${meanInFlight.toFixed(1)} above the target ${p.targetInFlight} for ${p.scaleUpAfterMs} ms`,
      };
    }
    return null;
  }
  group.overSince = null;
  if (meanInFlight < p.targetInFlight / 2) {
    group.underSince ??= now;
    if (now - group.underSince >= p.scaleDownAfterMs && group.shards > p.minShards) {
      group.underSince = null;
      return {
        change: "down",
        from: group.shards,
        to: group.shards - 1,
        reason: `mean in-flight ${meanInFlight.toFixed(1)} below half the target for ${p.scaleDownAfterMs} ms`,
      };
    }
    return null;
  }
  group.underSince = null;
  return null;
}

export function shardNames(group: ShardGroup): string[] {
  return Array.from({ length: group.shards }, (_, i) =>
    shardObjectName(group.base, group.policy.shardName, i),
  );
}

export function nameForKey(group: ShardGroup, key: string): string {
  return shardObjectName(group.base, group.policy.shardName, shardOf(key, group.shards));
}
