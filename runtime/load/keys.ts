import type { KeySpec } from "../shared/grammar.ts";

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: a small, fast, seedable generator (a run with a seed repeats its keys). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws the next key as a string. */
export type KeySource = () => string;

export function keySource(spec: KeySpec, random: Random): KeySource {
  switch (spec.kind) {
    case "uniform": {
      const k = spec.k;
      return () => String(Math.floor(random() * k));
    }
    case "zipf": {
      const z = zipfSampler(spec.k, spec.s, random);
      return () => String(z() - 1);
    }
    case "seq": {
      let n = 0;
      return () => String(n++);
    }
  }
}

/**
 * Zipf over 1..n with exponent s (P(k) proportional to 1/k^s), in constant
 * memory and expected constant time whatever n: rejection-inversion
 * sampling (Hörmann and Derflinger 1996, as in Apache Commons RNG's
 * RejectionInversionZipfSampler).
 */
export function zipfSampler(n: number, s: number, random: Random): () => number {
  const helper1 = (x: number): number =>
    Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
  const helper2 = (x: number): number =>
    Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x));
  const h = (x: number): number => Math.exp(-s * Math.log(x));
  const hIntegral = (x: number): number => {
    const logX = Math.log(x);
    return helper2((1 - s) * logX) * logX;
  };
  const hIntegralInverse = (x: number): number => {
    let t = x * (1 - s);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  };
  const hX1 = hIntegral(1.5) - 1;
  const hN = hIntegral(n + 0.5);
  const cut = 2 - hIntegralInverse(hIntegral(2.5) - h(2));
  return () => {
    for (;;) {
      const u = hN + random() * (hX1 - hN);
      const x = hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > n) k = n;
      if (k - x <= cut || u >= hIntegral(k + 0.5) - h(k)) return k;
    }
  };
}

/** Picks one of `items` with probability proportional to its weight. */
export function weightedPicker<T>(items: readonly { weight: number; item: T }[], random: Random): () => T {
  if (items.length === 1) {
    const only = items[0]!.item;
    return () => only;
  }
  const cumulative: number[] = [];
  let total = 0;
  for (const i of items) cumulative.push((total += i.weight));
  return () => {
    const r = random() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return items[lo]!.item;
  };
}
