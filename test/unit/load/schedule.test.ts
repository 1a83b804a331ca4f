import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../runtime/shared/clock.ts";
import { seededRandom } from "../../../runtime/load/keys.ts";
import {
  Arrivals,
  levelAt,
  levelCurve,
  OpenScheduler,
  type LevelPoint,
} from "../../../runtime/load/schedule.ts";

function all(points: LevelPoint[], mode: "uniform" | "poisson" = "uniform", seed = 1): number[] {
  const a = new Arrivals(points, mode, seededRandom(seed));
  const out: number[] = [];
  for (let t = a.next(); t !== null; t = a.next()) out.push(t);
  return out;
}

describe("level curve", () => {
  it("ramps between stages and steps for a spike", () => {
    const c = levelCurve({
      start: 0,
      stages: [
        { durationMs: 1000, target: 100 },
        { durationMs: 2000, target: 100 },
      ],
      spike: { atMs: 2000, durationMs: 500, target: 900 },
    });
    expect(levelAt(c, 500)).toBe(50);
    expect(levelAt(c, 1999)).toBe(100);
    expect(levelAt(c, 2000)).toBe(900);
    expect(levelAt(c, 2499)).toBe(900);
    expect(levelAt(c, 2500)).toBe(100);
    expect(levelAt(c, 3000)).toBe(100);
    expect(c[c.length - 1]!.t).toBe(3000);
  });
});

describe("open-model arrivals", () => {
  it("spaces a constant rate evenly", () => {
    const t = all(levelCurve({ start: 100, stages: [{ durationMs: 1000, target: 100 }] }));
    expect(t).toHaveLength(100);
    expect(t[0]).toBeCloseTo(5, 9);
    expect(t[1]).toBeCloseTo(15, 9);
    expect(t[99]).toBeCloseTo(995, 9);
  });

  it("follows a linear ramp exactly (request k due where the integral of the rate reaches k + 1/2)", () => {
    const t = all(levelCurve({ start: 0, stages: [{ durationMs: 2000, target: 100 }] }));
    // r(t) = 50 t, A(t) = 25 t^2 (t in s): 100 requests in 2 s.
    expect(t).toHaveLength(100);
    for (const k of [0, 1, 10, 50, 99]) expect(t[k]).toBeCloseTo(1000 * Math.sqrt((k + 0.5) / 25), 6);
    // and ramping down is the mirror image
    const down = all(levelCurve({ start: 100, stages: [{ durationMs: 2000, target: 0 }] }));
    expect(down).toHaveLength(100);
    expect(down[99]! - down[98]!).toBeGreaterThan(down[1]! - down[0]!);
  });

  it("adds a spike's requests and no others", () => {
    const t = all(
      levelCurve({
        start: 10,
        stages: [{ durationMs: 3000, target: 10 }],
        spike: { atMs: 1000, durationMs: 500, target: 1000 },
      }),
    );
    expect(t).toHaveLength(10 * 2.5 + 1000 * 0.5);
    expect(t.filter((x) => x >= 1000 && x < 1500)).toHaveLength(500);
  });

  it("draws Poisson arrivals with the right mean", () => {
    const t = all(levelCurve({ start: 1000, stages: [{ durationMs: 10_000, target: 1000 }] }), "poisson", 9);
    expect(Math.abs(t.length - 10_000)).toBeLessThan(300);
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - 1) ** 2, 0) / gaps.length);
    expect(sd).toBeGreaterThan(0.8); // exponential gaps: sd = mean = 1 ms
  });
});

describe("open-model scheduler", () => {
  it("fires each request at its due time on a fake clock", async () => {
    const clock = new FakeClock(0);
    const arrivals = new Arrivals(
      levelCurve({ start: 200, stages: [{ durationMs: 1000, target: 200 }] }),
      "uniform",
      Math.random,
    );
    const fired: { due: number; at: number }[] = [];
    let done = false;
    const s = new OpenScheduler(
      arrivals,
      clock,
      (due) => fired.push({ due, at: clock.now() }),
      () => (done = true),
    );
    s.start();
    await clock.advance(997);
    expect([fired.length, done]).toEqual([199, false]);
    await clock.advance(1);
    expect(done).toBe(true);
    expect(fired).toHaveLength(200);
    expect(fired[0]!.due).toBeCloseTo(2.5, 9);
    expect(fired.every((f) => Math.abs(f.at - f.due) < 1e-9)).toBe(true);
    expect(s.maxLagMs).toBeCloseTo(0, 9);
  });

  it("keeps due times when it runs late, so a stall shows up as latency", () => {
    // A clock whose timers run only when the test says: the event loop was stuck for 300 ms.
    let now = 0;
    let pending: (() => void) | null = null;
    const stuck = {
      now: () => now,
      setTimeout: (fn: () => void) => {
        pending = fn;
        return { cancel: () => (pending = null) };
      },
    };
    const arrivals = new Arrivals(
      levelCurve({ start: 100, stages: [{ durationMs: 1000, target: 100 }] }),
      "uniform",
      Math.random,
    );
    const dues: number[] = [];
    const s = new OpenScheduler(
      arrivals,
      stuck,
      (due) => dues.push(due),
      () => {},
    );
    s.start();
    expect(dues).toEqual([]);
    now = 300;
    (pending as unknown as () => void)();
    expect(dues).toHaveLength(30);
    expect(dues[0]).toBeCloseTo(5, 9);
    expect(dues[29]).toBeCloseTo(295, 9);
    expect(s.maxLagMs).toBeCloseTo(295, 9);
    s.stop();
  });

  it("stops early on request", async () => {
    const clock = new FakeClock(0);
    const arrivals = new Arrivals(
      levelCurve({ start: 100, stages: [{ durationMs: 1000, target: 100 }] }),
      "uniform",
      Math.random,
    );
    let n = 0;
    let done = 0;
    const s = new OpenScheduler(
      arrivals,
      clock,
      () => n++,
      () => done++,
    );
    s.start();
    await clock.advance(100);
    s.stop();
    await clock.advance(1000);
    expect(n).toBe(10);
    expect(done).toBe(1);
  });
});
