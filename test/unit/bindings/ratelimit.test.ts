import { describe, expect, it } from "vitest";
import { RateLimitBinding, RateLimits } from "../../../runtime/bindings/ratelimit.ts";

describe("rate limiting", () => {
  it("counts calls per key in fixed windows of the period, per binding", () => {
    let now = 60_000 * 1000;
    const limits = new RateLimits(() => now);
    const hit = (binding: string, key: string) => limits.count(binding, key, 2, 60);
    expect([hit("A", "k"), hit("A", "k"), hit("A", "k")]).toEqual([true, true, false]);
    expect(hit("A", "other")).toBe(true);
    expect(hit("B", "k")).toBe(true);
    now += 59_999;
    expect(hit("A", "k")).toBe(false);
    now += 1;
    expect(hit("A", "k")).toBe(true);
  });

  it("checks limit()'s options as workerd does before counting", async () => {
    const calls: unknown[][] = [];
    const binding = new RateLimitBinding(
      { binding: "L", namespaceId: "1", limit: 5, period: 10 },
      async (...a) => {
        calls.push(a);
        return true;
      },
    );
    await expect(binding.limit({ key: "k" })).resolves.toEqual({ success: true });
    await expect(binding.limit({ key: "k", limit: 1, period: 60 })).resolves.toEqual({ success: true });
    await expect(binding.limit({ key: "k", period: 30 })).rejects.toThrow("unsupported period: 30");
    await expect(binding.limit({ burst: 1 } as never)).rejects.toThrow("bad rate limit options: [burst]");
    expect(calls).toEqual([
      ["L", "k", 5, 10],
      ["L", "k", 1, 60],
    ]);
  });
});
