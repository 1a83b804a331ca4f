import { describe, expect, it } from "vitest";
import { Histogram } from "../../../runtime/load/histogram.ts";

describe("latency histogram", () => {
  it("gives percentiles within 1/32 of the exact value, in fixed memory", () => {
    const h = new Histogram();
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 100_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const v = 10 + (x % 1_000_000); // 10 µs .. 1 s
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1]!;
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(1 / 32);
    }
    expect(h.count).toBe(100_000);
    expect(h.min).toBe(values[0]);
    expect(h.max).toBe(values[values.length - 1]);
    expect(JSON.stringify(h.toJSON()).length).toBeLessThan(20_000);
  });

  it("keeps small values exact and clamps to min and max", () => {
    const h = new Histogram();
    for (const v of [3, 3, 7, 40]) h.record(v);
    expect(h.percentile(50)).toBe(3);
    expect(h.percentile(75)).toBe(7);
    expect(h.percentile(100)).toBe(40);
    expect(h.mean).toBe(13.25);
  });

  it("merges, round-trips through JSON and resets", () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).record(i * 100);
    a.merge(b);
    const c = Histogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(c.count).toBe(1000);
    expect(c.percentile(50)).toBe(a.percentile(50));
    expect(Math.abs(c.percentile(50) - 50_000) / 50_000).toBeLessThan(1 / 32);
    c.reset();
    expect([c.count, c.percentile(99), c.max]).toEqual([0, 0, 0]);
  });
});
