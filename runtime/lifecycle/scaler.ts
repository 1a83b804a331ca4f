import type { ShardingPolicyConfig } from "../config/terrarium.ts";
import { parseDuration } from "../shared/grammar.ts";
import { shardObjectName, shardOf } from "../shared/sharding.ts";

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

/** What the scaler last saw of a sharded name: the figure it compared and with what. */
export interface ScalerView {
  /** When it looked (the engine's clock, ms). */
  at: number;
  /** The window its mean covers, ms: scaleUpAfter, or less while the window is filling. */
  windowMs: number;
  /** Requests in flight per shard, averaged over the window's samples. */
  meanInFlight: number;
  targetInFlight: number;
  shards: number;
  /** Why no decision was made, or what was decided. */
  verdict: string;
}

/** One sharded object name: its shards and the scaler's memory of recent load. */
export interface ShardGroup {
  className: string;
  binding: string;
  base: string;
  policy: ShardingPolicy;
  shards: number;
  /** Per-shard in-flight samples since the last decision, oldest first. */
  samples: { t: number; v: number }[];
  /** The first sample since the last decision: a window counts once it reaches back this far. */
  since: number | null;
  seen: ScalerView | null;
}

/** A new group's scaler memory. */
export function freshScalerMemory(): Pick<ShardGroup, "samples" | "since" | "seen"> {
  return { samples: [], since: null, seen: null };
}

export type ScaleDecision = { change: "up" | "down"; from: number; to: number; reason: string } | null;

function meanSince(samples: readonly { t: number; v: number }[], from: number): number {
  let sum = 0;
  let n = 0;
  for (const s of samples) {
    if (s.t < from) continue;
    sum += s.v;
    n++;
  }
  return n ? sum / n : 0;
}

/**
 * The scaling rule, on whatever clock it is given, fed one sample of the
 * shards' mean in-flight requests at a time: add a shard when the mean of
 * the samples over the last scaleUpAfter is above the target; remove one
 * when the mean over the last scaleDownAfter is below half of it; never
 * leave [minShards, maxShards]. A window counts only once the samples since
 * the last decision reach back that far.
 *
 * NOTE: the mean is over the window, not every sample: a queue that is
 * served in bursts dips to a few requests between them, and a rule that any
 * dip resets would never scale a queue averaging twice its target.
 */
export function decide(group: ShardGroup, meanInFlight: number, now: number): ScaleDecision {
  const p = group.policy;
  const keep = Math.max(p.scaleUpAfterMs, p.scaleDownAfterMs);
  group.samples.push({ t: now, v: meanInFlight });
  while (group.samples.length && group.samples[0]!.t < now - keep) group.samples.shift();
  group.since ??= now;
  const upWindow = Math.min(p.scaleUpAfterMs, now - group.since);
  const up = meanSince(group.samples, now - upWindow);
  const view = (verdict: string): void => {
    group.seen = {
      at: now,
      windowMs: upWindow,
      meanInFlight: Math.round(up * 10) / 10,
      targetInFlight: p.targetInFlight,
      shards: group.shards,
      verdict,
    };
  };
  const decided = (d: NonNullable<ScaleDecision>): ScaleDecision => {
    view(`${d.change === "up" ? "added" : "removed"} a shard: ${d.reason}`);
    group.samples = [];
    group.since = null;
    return d;
  };
  if (up > p.targetInFlight) {
    if (upWindow < p.scaleUpAfterMs) {
      view(`above the target; the window is ${upWindow} of ${p.scaleUpAfterMs} ms so far`);
      return null;
    }
    if (group.shards >= p.maxShards) {
      view(`above the target, but the policy's maximum of ${p.maxShards} shards is reached`);
      return null;
    }
    return decided({
      change: "up",
      from: group.shards,
      to: group.shards + 1,
      reason: `mean in-flight ${up.toFixed(1)} above the target ${p.targetInFlight} over ${p.scaleUpAfterMs} ms`,
    });
  }
  const downCovered = now - group.since >= p.scaleDownAfterMs;
  const down = meanSince(group.samples, now - p.scaleDownAfterMs);
  if (downCovered && down < p.targetInFlight / 2 && group.shards > p.minShards) {
    return decided({
      change: "down",
      from: group.shards,
      to: group.shards - 1,
      reason: `mean in-flight ${down.toFixed(1)} below half the target over ${p.scaleDownAfterMs} ms`,
    });
  }
  view("not above the target");
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
