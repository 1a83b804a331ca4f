import { describe, expect, it } from "vitest";
import { decide, resolvePolicy, type ShardGroup } from "../../../runtime/lifecycle/scaler.ts";
import { fnv1a64, jumpHash, shardObjectName, shardOf } from "../../../runtime/shared/sharding.ts";

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
    samples: [],
    since: null,
    seen: null,
  });

  it("adds a shard once the mean over scaleUpAfter is above the target", () => {
    const g = group();
    expect(decide(g, 20, 0)).toBeNull();
    expect(decide(g, 20, 900)).toBeNull();
    expect(g.seen).toMatchObject({ windowMs: 900, meanInFlight: 20, targetInFlight: 10 });
    expect(g.seen!.verdict).toMatch(/window is 900 of 1000 ms/);
    expect(decide(g, 20, 1_000)).toMatchObject({ change: "up", from: 1, to: 2 });
    g.shards = 2;
    // A new window starts after a decision.
    expect(decide(g, 20, 1_100)).toBeNull();
    expect(decide(g, 20, 1_600)).toBeNull();
    expect(decide(g, 20, 2_100)).toMatchObject({ change: "up", to: 3 });
    g.shards = 3;
    // At the maximum, the scaler says so.
    for (let t = 2_200; t <= 20_000; t += 100) expect(decide(g, 50, t)).toBeNull();
    expect(g.seen!.verdict).toMatch(/maximum of 3 shards/);
  });

  it("decides on the window's mean: a queue served in bursts, dipping under the target, still scales", () => {
    // 64 clients on one object: the queue swings between 2 and 40, averaging 28.
    const g = group();
    g.policy = { ...g.policy, targetInFlight: 16 };
    const queue = [40, 2, 40, 40, 2, 40, 40, 2, 40, 40, 40];
    const decisions = queue.map((v, i) => decide(g, v, i * 100));
    expect(decisions.slice(0, -1).every((d) => d === null)).toBe(true);
    expect(decisions.at(-1)).toMatchObject({ change: "up", from: 1, to: 2 });
    expect(decisions.at(-1)!.reason).toMatch(/mean in-flight 29\.6 above the target 16 over 1000 ms/);
  });

  it("makes no decision while the window's mean is at or under the target, and says what it saw", () => {
    const g = group();
    for (let t = 0; t <= 3_000; t += 100) expect(decide(g, t % 200 === 0 ? 18 : 0, t)).toBeNull();
    expect(g.seen).toMatchObject({ windowMs: 1000, targetInFlight: 10, shards: 1 });
    expect(g.seen!.meanInFlight).toBeLessThanOrEqual(10);
    expect(g.seen!.verdict).toBe("not above the target");
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
