import { describe, expect, it } from "vitest";
import { HORIZON_S, MAX_TARGET, PoolSizer, QUIET_MS } from "../../../runtime/lifecycle/pool-sizing.ts";
import { FakeClock } from "../../../runtime/shared/clock.ts";

describe("the pool's size from the arrival rate", () => {
  it("is the floor with no arrivals", () => {
    const sizer = new PoolSizer(new FakeClock());
    expect(sizer.perSecond()).toBe(0);
    expect(sizer.target(4)).toBe(4);
    expect(sizer.quietIn()).toBe(0);
  });

  it("follows a steady rate, covering HORIZON_S of it, and falls back to the floor once arrivals stop", async () => {
    const clock = new FakeClock();
    const sizer = new PoolSizer(clock);
    // 10 arrivals a second for 20 s.
    for (let i = 0; i < 200; i++) {
      sizer.arrived();
      await clock.advance(100);
    }
    expect(sizer.perSecond()).toBeGreaterThan(9);
    expect(sizer.perSecond()).toBeLessThan(11);
    expect(sizer.target(4)).toBe(Math.floor(sizer.perSecond() * HORIZON_S));
    expect(sizer.target(4)).toBeGreaterThan(4);
    await clock.advance(30_000);
    expect(sizer.target(4)).toBe(4);
  });

  it("never asks for more than MAX_TARGET, however fast objects arrive", async () => {
    const clock = new FakeClock();
    const sizer = new PoolSizer(clock);
    for (let i = 0; i < 10_000; i++) {
      sizer.arrived();
      await clock.advance(1);
    }
    expect(sizer.target(4)).toBe(MAX_TARGET);
    // A floor above it wins.
    expect(sizer.target(MAX_TARGET + 8)).toBe(MAX_TARGET + 8);
  });

  it("says how long until arrivals have paused for QUIET_MS", async () => {
    const clock = new FakeClock();
    const sizer = new PoolSizer(clock);
    sizer.arrived();
    expect(sizer.quietIn()).toBe(QUIET_MS);
    await clock.advance(QUIET_MS - 10);
    expect(sizer.quietIn()).toBe(10);
    await clock.advance(10);
    expect(sizer.quietIn()).toBe(0);
  });
});
