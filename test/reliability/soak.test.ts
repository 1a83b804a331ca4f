import { describe, expect, it } from "vitest";
import { figure } from "./harness.ts";
import { POOL_ALLOWANCE, soak } from "./soak-run.ts";

// Load held (docs/reliability.md, "Load held"): the short soak. The
// 5-minute one is `npm run bench:soak`, which prints the same figures.

describe("load held", () => {
  it("serves a steady rate over 1,000 hibernating objects without errors or leaks", async () => {
    const f = await soak({ durationS: 30, rate: 100, objects: 1_000, warmupS: 10 });
    figure("soak (30 s)", f);
    expect(f.errors).toBe(0);
    expect(f.completed).toBe(f.sent);
    // Objects really cycled: most requests woke a hibernated object.
    expect(f.activations).toBeGreaterThan(f.sent / 2);
    // Nothing leaked over ~2,700 hibernation cycles: with every object hibernated, what the
    // process holds beyond the start fits in the pool of idle workers kept for reuse.
    expect(f.end.fds).toBeLessThanOrEqual(f.start.fds + POOL_ALLOWANCE.fds);
    expect(f.end.threads).toBeLessThanOrEqual(f.start.threads + POOL_ALLOWANCE.threads);
    expect(f.end.rssMb).toBeLessThanOrEqual(f.start.rssMb + POOL_ALLOWANCE.rssMb);
  }, 240_000);
});
