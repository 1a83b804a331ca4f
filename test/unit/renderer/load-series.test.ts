import { describe, expect, it } from "vitest";
import { planLoad } from "../../../runtime/load/profile.ts";
import type { RunRecord } from "../../../runtime/api/contract.ts";
import {
  compareRuns,
  downsample,
  overlay,
  stageBands,
  type Columns,
  type RunSecond,
} from "../../../renderer/src/views/console/load-series.ts";

function second(t: number, rps: number, p99: number): RunSecond {
  return {
    t,
    windowMs: 1000,
    level: rps,
    sent: rps,
    completed: rps,
    errors: 0,
    errorsByKind: {},
    rps,
    latencyMs: { p50: p99 / 2, p90: p99, p99, "p99.9": p99, max: p99 },
    inFlight: 0,
    ws: null,
    engine: null,
  };
}

type Summary = RunRecord["summary"];
function summary(over: { completed: number; p99: number; errorRate: number; sent: number }): Summary {
  return {
    throughput: { sent: over.sent, completed: over.completed },
    requests: { sent: over.sent, completed: over.sent, failed: 0, dropped: 0 },
    errorRate: over.errorRate,
    latencyMs: { min: 1, mean: 5, p50: 4, p90: 8, p95: 9, p99: over.p99, "p99.9": over.p99, max: over.p99 },
    flags: [],
  } as unknown as Summary;
}

describe("the Load tab's series", () => {
  it("draws a profile's stages as bands, telling a spike from a ramp and a hold", () => {
    const plan = planLoad(
      "x",
      {
        stages: [
          { duration: "2s", target: 60 },
          { duration: "5s", target: 60 },
          { duration: "1s", target: 0 },
        ],
        spike: { at: "4s", duration: "1s", target: 120 },
        requests: [{ path: "/" }],
      },
      "http://127.0.0.1:1",
    );
    expect(stageBands(plan.levels)).toEqual([
      { from: 0, to: 2, kind: "ramp", fromLevel: 0, toLevel: 60 },
      { from: 2, to: 4, kind: "hold", fromLevel: 60, toLevel: 60 },
      { from: 4, to: 5, kind: "spike", fromLevel: 120, toLevel: 120 },
      { from: 5, to: 7, kind: "hold", fromLevel: 60, toLevel: 60 },
      { from: 7, to: 8, kind: "ramp", fromLevel: 60, toLevel: 0 },
    ]);
  });

  it("merges seconds down to a number of points: rates by mean, latency by its worst, gauges by the last", () => {
    const c: Columns = {
      x: [1, 2, 3, 4, 5, 6, 7],
      columns: {
        rps: [10, 20, 30, 40, 50, 60, 70],
        p99: [1, 9, 2, 3, 30, 4, 5],
        shards: [1, 1, 2, 2, 3, null, null],
      },
      folds: { rps: "mean", p99: "max", shards: "last" },
    };
    expect(downsample(c, 10)).toBe(c);
    const d = downsample(c, 3);
    expect(d.x).toEqual([3, 6, 7]);
    expect(d.columns).toEqual({ rps: [20, 50, 70], p99: [9, 30, 5], shards: [2, 3, null] });
  });

  it("compares two runs: B minus A, and whether B did better for each number", () => {
    const rows = compareRuns(
      summary({ completed: 100, p99: 200, errorRate: 0.1, sent: 1000 }),
      summary({ completed: 150, p99: 201, errorRate: 0.2, sent: 2000 }),
    );
    const by = Object.fromEntries(rows.map((r) => [r.label, r]));
    expect(by["Throughput (answered)"]).toMatchObject({
      a: 100,
      b: 150,
      delta: 50,
      ratio: 0.5,
      verdict: "better",
    });
    // Within 2%: the same, not a regression.
    expect(by["Latency p99"]).toMatchObject({ delta: 1, verdict: "same" });
    expect(by["Error rate"]).toMatchObject({ a: 10, b: 20, verdict: "worse" });
    // More requests sent is neither better nor worse: it is what the profile asked.
    expect(by["Requests sent"]).toMatchObject({ delta: 1000, verdict: "same" });
    expect(by["Limit flags"]).toMatchObject({ a: 0, b: 0, ratio: null, verdict: "same" });
  });

  it("lays two runs over one time axis, with gaps where one has no such second", () => {
    const a = [second(1, 10, 5), second(2, 20, 6), second(3, 30, 7)];
    const b = [second(1, 11, 50), second(2, 12, 60)];
    expect(overlay(a, b, (s) => s.rps)).toEqual({ x: [1, 2, 3], a: [10, 20, 30], b: [11, 12, null] });
  });
});
