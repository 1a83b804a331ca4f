import { describe, expect, it } from "vitest";
import { decide, resolvePolicy, type ShardGroup } from "../../../runtime/lifecycle/scaler.ts";
import { fnv1a64, jumpHash, shardObjectName, shardOf } from "../../../runtime/router/sharding.ts";

describe("key spreading", () => {
  it("hashes keys stably (FNV-1a 64)", () => {
    expect(fnv1a64("")).toBe(0xcbf29ce484222325n);
    expect(fnv1a64("a")).toBe(0xaf63dc4c8601ec8cn);
  });

  it("spreads keys evenly and moves about 1/n of them when a shard is added", () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
    const counts = [0, 0, 0, 0];
    for (const k of keys) counts[shardOf(k, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(2_200);
    const moved = keys.filter((k) => shardOf(k, 4) !== shardOf(k, 5)).length;
    expect(moved / keys.length).toBeGreaterThan(0.15);
    expect(moved / keys.length).toBeLessThan(0.25);
    expect(keys.every((k) => shardOf(k, 1) === 0)).toBe(true);
    expect(jumpHash(123n, 1)).toBe(0);
  });

  it("keeps the base name for shard 0", () => {
    expect(shardObjectName("room", "{name}#{shard}", 0)).toBe("room");
    expect(shardObjectName("room", "{name}#{shard}", 3)).toBe("room#3");
  });
});

describe("the scaler's decisions", () => {
  const group = (): ShardGroup => ({
    className: "C",
    binding: "C",
    base: "b",
    policy: resolvePolicy({
      key: "{k}",
      minShards: 1,
      maxShards: 3,
      targetInFlight: 10,
      scaleUpAfter: "1s",
      scaleDownAfter: "5s",
      shardName: "{name}#{shard}",
    }),
    shards: 1,
    overSince: null,
    underSince: null,
  });

  it("adds a shard only after the target has been passed for scaleUpAfter", () => {
    const g = group();
    expect(decide(g, 20, 0)).toBeNull();
    expect(decide(g, 20, 900)).toBeNull();
    expect(decide(g, 20, 1_000)).toMatchObject({ change: "up", from: 1, to: 2 });
    g.shards = 2;
    // A dip resets the timer.
    expect(decide(g, 20, 1_100)).toBeNull();
    expect(decide(g, 8, 1_500)).toBeNull();
    expect(decide(g, 20, 1_600)).toBeNull();
    expect(decide(g, 20, 2_500)).toBeNull();
    expect(decide(g, 20, 2_600)).toMatchObject({ change: "up", to: 3 });
    g.shards = 3;
    expect(decide(g, 50, 10_000)).toBeNull();
    expect(decide(g, 50, 20_000)).toBeNull();
  });

  it("removes a shard after load stays below half the target for scaleDownAfter, never below the minimum", () => {
    const g = group();
    g.shards = 2;
    expect(decide(g, 1, 0)).toBeNull();
    expect(decide(g, 1, 4_999)).toBeNull();
    expect(decide(g, 1, 5_000)).toMatchObject({ change: "down", to: 1 });
    g.shards = 1;
    expect(decide(g, 0, 20_000)).toBeNull();
    expect(decide(g, 0, 40_000)).toBeNull();
  });
});
