import { describe, expect, it } from "vitest";
import { keySource, seededRandom, weightedPicker, zipfSampler } from "../../../runtime/load/keys.ts";

function counts(draw: () => string, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = draw();
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

describe("key distributions", () => {
  it("uniform:K draws every key in 0..K-1 about equally", () => {
    const c = counts(keySource({ kind: "uniform", k: 10 }, seededRandom(1)), 100_000);
    expect([...c.keys()].sort()).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    for (const v of c.values()) expect(Math.abs(v - 10_000)).toBeLessThan(500);
  });

  it("zipf:K[:s] makes key 0 the hottest, with P(k) proportional to 1/(k+1)^s", () => {
    for (const s of [1, 1.5, 0.7]) {
      const n = 200_000;
      const c = counts(keySource({ kind: "zipf", k: 1000, s }, seededRandom(7)), n);
      const h = (x: number): number => 1 / x ** s;
      let norm = 0;
      for (let k = 1; k <= 1000; k++) norm += h(k);
      for (const key of [0, 1, 2, 9]) {
        const expected = (h(key + 1) / norm) * n;
        const got = c.get(String(key)) ?? 0;
        expect(Math.abs(got - expected) / expected).toBeLessThan(0.05);
      }
      expect([...c.keys()].every((k) => Number(k) >= 0 && Number(k) < 1000)).toBe(true);
    }
  });

  it("zipf stays within 1..n for tiny and huge n", () => {
    const r = seededRandom(3);
    const one = zipfSampler(1, 1.2, r);
    for (let i = 0; i < 100; i++) expect(one()).toBe(1);
    const big = zipfSampler(1e9, 1, r);
    for (let i = 0; i < 1000; i++) {
      const k = big();
      expect(k >= 1 && k <= 1e9 && Number.isInteger(k)).toBe(true);
    }
  });

  it("seq gives a new key to every draw", () => {
    const next = keySource({ kind: "seq" }, seededRandom(1));
    expect([next(), next(), next()]).toEqual(["0", "1", "2"]);
  });

  it("a seed repeats its keys", () => {
    const a = keySource({ kind: "zipf", k: 100, s: 1 }, seededRandom(42));
    const b = keySource({ kind: "zipf", k: 100, s: 1 }, seededRandom(42));
    expect(Array.from({ length: 50 }, a)).toEqual(Array.from({ length: 50 }, b));
  });

  it("picks weighted requests in proportion", () => {
    const pick = weightedPicker(
      [
        { weight: 3, item: "a" },
        { weight: 1, item: "b" },
      ],
      seededRandom(5),
    );
    const c = counts(pick, 40_000);
    expect(Math.abs((c.get("a") ?? 0) - 30_000)).toBeLessThan(600);
  });
});
