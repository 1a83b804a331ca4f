import { describe, expect, it } from "vitest";
import type { ObjectRecord } from "../../../runtime/registry/registry.ts";
import { EngineEvents } from "../../../runtime/shared/events.ts";
import { EngineMetrics } from "../../../runtime/load/metrics.ts";

function record(id: string, name: string, state: ObjectRecord["state"]): ObjectRecord {
  return {
    id,
    className: "Counter",
    name,
    state,
    createdAt: 0,
    lastActive: 0,
    requests: 0,
    storageBytes: 0,
    lastError: null,
  };
}

describe("engine metrics under load", () => {
  it("ranks the hottest objects, samples their queues and flags Cloudflare's limits", () => {
    const events = new EngineEvents();
    const hot = "a".repeat(64);
    const cold = "b".repeat(64);
    const objects = new Map([
      [hot, record(hot, "hot", "Processing")],
      [cold, record(cold, "cold", "Idle")],
      ["c".repeat(64), record("c".repeat(64), "asleep", "Hibernating")],
    ]);
    const inFlight = new Map([[hot, 7]]);
    let now = 0;
    const metrics = new EngineMetrics(
      {
        events,
        lifecycle: { inFlight: (id) => inFlight.get(id) ?? 0 },
        registry: { objects: () => objects.values(), get: (id) => objects.get(id) },
        state: { storageBytes: (_c, id) => (id === hot ? 11 * 1024 ** 3 : 0) },
      },
      { now: () => now },
    );
    metrics.start();
    const req = (objectId: string, durationMs: number, ok = true, error?: string): void =>
      events.emit("request", {
        time: 0,
        objectId,
        className: "Counter",
        kind: "rpc",
        method: "rpc increment()",
        durationMs,
        ok,
        ...(error ? { error } : {}),
      });
    for (let i = 0; i < 1500; i++) req(hot, i % 100 === 0 ? 40 : 2);
    for (let i = 0; i < 10; i++) req(cold, 1);
    req(cold, 3, false, "RangeError: Values cannot be larger than 2097152 bytes.");
    events.emit("log", {
      seq: 1,
      time: 0,
      level: "error",
      source: "terrarium",
      objectId: cold,
      message: "reset: exceeded its CPU time limit of 30000 ms",
    });
    now = 1000;
    const s = metrics.sample();
    metrics.stop();

    expect(s.byState).toEqual({ Processing: 1, Idle: 1, Hibernating: 1 });
    expect(s.hottest.map((o) => o.name)).toEqual(["hot", "cold"]);
    expect(s.hottest[0]).toMatchObject({ requests: 1500, rps: 1500, inFlightMax: 7, maxMs: 40, errors: 0 });
    expect(s.hottest[1]).toMatchObject({ requests: 11, errors: 1, inFlightMax: 0 });
    expect(s.classes).toHaveLength(1);
    expect(s.classes[0]).toMatchObject({ className: "Counter", requests: 1511, objects: 2, errors: 1 });
    expect(s.classes[0]!.p50Ms).toBeCloseTo(2, 1);
    expect(s.classes[0]!.p99Ms).toBeGreaterThanOrEqual(2);

    const flags = metrics.limits.flags();
    expect(flags.map((f) => `${f.kind} ${f.name}`).sort()).toEqual([
      "cpu cold",
      "requests hot",
      "storage hot",
      "value-size cold",
    ]);
    const rate = flags.find((f) => f.kind === "requests")!;
    expect(rate.observed).toBe("1,500 requests/s");
    expect(rate.advice).toMatch(/shard/);
  });

  it("keeps sampling an object's queue while requests are in flight across windows", () => {
    const events = new EngineEvents();
    const id = "d".repeat(64);
    const objects = new Map([[id, record(id, "slow", "Processing")]]);
    const inFlight = new Map([[id, 3]]);
    let now = 0;
    const metrics = new EngineMetrics(
      {
        events,
        lifecycle: { inFlight: (x) => inFlight.get(x) ?? 0 },
        registry: { objects: () => objects.values(), get: (x) => objects.get(x) },
      },
      { now: () => now },
    );
    metrics.start();
    events.emit("request", {
      time: 0,
      objectId: id,
      className: "Counter",
      kind: "fetch",
      method: "GET /",
      durationMs: 900,
      ok: true,
    });
    now = 1000;
    metrics.sample();
    inFlight.set(id, 12);
    now = 2000;
    const s = metrics.sample();
    metrics.stop();
    // No request ended in this window, yet the object's queue was seen growing.
    expect(s.hottest[0]).toMatchObject({ name: "slow", requests: 0, inFlightMax: 12 });
    expect(s.classes).toEqual([]);
    expect(metrics.limits.flags()).toEqual([]);
  });
});
