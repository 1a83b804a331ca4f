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

describe("engine metrics: CPU, sockets and sharding", () => {
  it("charges each worker's busy time to the object it serves, and starts over when the worker changes hands", () => {
    const events = new EngineEvents();
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    const objects = new Map([
      [a, record(a, "a", "Processing")],
      [b, record(b, "b", "Active")],
    ]);
    const host = { busy: 100, cpuUsage: () => host.busy };
    const slot: { object: { record: { id: string } } | null } = { object: { record: { id: a } } };
    let now = 0;
    const metrics = new EngineMetrics(
      {
        events,
        lifecycle: {
          inFlight: () => 0,
          workerLoads: () => [
            { worker: host, objectId: slot.object?.record.id ?? null, cpuUsage: () => host.cpuUsage() },
          ],
        },
        registry: { objects: () => objects.values(), get: (x) => objects.get(x) },
      },
      { now: () => now },
    );
    metrics.start();
    host.busy = 350;
    now = 1000;
    let s = metrics.sample();
    expect(s.hottest).toEqual([expect.objectContaining({ name: "a", requests: 0, cpuMs: 250 })]);

    // Lent to b: the time between the last reading and the hand-over is no one's.
    slot.object = { record: { id: b } };
    host.busy = 500;
    now = 2000;
    s = metrics.sample();
    expect(s.hottest).toEqual([]);
    host.busy = 540;
    now = 3000;
    s = metrics.sample();
    metrics.stop();
    expect(s.hottest).toEqual([expect.objectContaining({ name: "b", cpuMs: 40 })]);
  });

  it("flags an object holding more than 32,768 hibernatable WebSockets", () => {
    const events = new EngineEvents();
    const busy = "e".repeat(64);
    const calm = "f".repeat(64);
    const objects = new Map([
      [busy, record(busy, "lobby", "Hibernating")],
      [calm, record(calm, "room", "Hibernating")],
    ]);
    const sockets = [
      ...Array.from({ length: 32_769 }, () => ({ objectId: busy, hibernatable: true })),
      ...Array.from({ length: 40_000 }, () => ({ objectId: calm, hibernatable: false })),
    ];
    const metrics = new EngineMetrics({
      events,
      lifecycle: { inFlight: () => 0 },
      sockets: { list: () => sockets },
      registry: { objects: () => objects.values(), get: (x) => objects.get(x) },
    });
    metrics.start();
    metrics.sample();
    metrics.stop();
    const flags = metrics.limits.flags();
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ kind: "websockets", name: "lobby", peak: 32_769 });
    expect(flags[0]!.observed).toBe("32,769 hibernatable WebSockets held");
    expect(flags[0]!.advice).toMatch(/spread the connections/);
  });

  it("hands each flag to the live view once, in the window it was first passed", () => {
    const events = new EngineEvents();
    const id = "a".repeat(64);
    const objects = new Map([[id, record(id, "hot", "Processing")]]);
    let now = 0;
    const metrics = new EngineMetrics(
      {
        events,
        lifecycle: { inFlight: () => 0 },
        registry: { objects: () => objects.values(), get: (x) => objects.get(x) },
      },
      { now: () => now },
    );
    metrics.start();
    const burst = (n: number): void => {
      for (let i = 0; i < n; i++)
        events.emit("request", {
          time: 0,
          objectId: id,
          className: "Counter",
          kind: "fetch",
          method: "GET /",
          durationMs: 1,
          ok: true,
        });
    };
    burst(10);
    now = 1000;
    expect(metrics.sample().flags).toEqual([]);
    burst(1200);
    now = 2000;
    const first = metrics.sample().flags;
    burst(1500);
    now = 3000;
    const again = metrics.sample().flags;
    metrics.stop();
    expect(first).toEqual([expect.objectContaining({ kind: "requests", name: "hot", peak: 1200 })]);
    expect(again).toEqual([]);
    expect(metrics.limits.flags()[0]).toMatchObject({ peak: 1500, count: 2 });
  });

  it("marks each change of a shard count once, with the scaler's reason from the transitions it caused", () => {
    const events = new EngineEvents();
    const groups = [{ className: "Tally", base: "t", shards: 1, names: ["t"] }];
    let now = 0;
    const metrics = new EngineMetrics(
      {
        events,
        lifecycle: { inFlight: () => 0, shardGroups: () => groups },
        registry: { objects: () => [], get: () => undefined },
      },
      { now: () => now },
    );
    metrics.start();
    const transition = (objectId: string, to: "Created" | "Scaling", cause: string): void =>
      events.emit("transition", { seq: 0, time: 0, objectId, className: "Tally", from: null, to, cause });
    const up1 = "scaling t from 1 to 2 shards: mean in-flight 3.0 above the target 2 for 300 ms";
    const up2 = "scaling t from 2 to 3 shards: mean in-flight 5.0 above the target 2 for 300 ms";

    // Up to 2: the new shard's first transition carries the decision.
    now = 400;
    groups[0]!.shards = 2;
    transition("2".repeat(64), "Created", up1);
    now = 1000;
    const first = metrics.sample();
    // Up to 3 while shard t stays busy: its Scaling step (with both decisions) comes a window later.
    now = 1500;
    groups[0]!.shards = 3;
    now = 2000;
    const second = metrics.sample();
    expect(second.scaling.map((m) => m.cause)).toEqual(["from 2 to 3 shards"]);
    transition("1".repeat(64), "Scaling", `${up1}; then ${up2}`);
    transition("3".repeat(64), "Created", up2);
    now = 3000;
    const third = metrics.sample();
    metrics.stop();

    expect(first.shards).toEqual([{ className: "Tally", base: "t", shards: 2, seen: null }]);
    expect(first.scaling).toEqual([
      {
        at: 400,
        className: "Tally",
        base: "t",
        from: 1,
        to: 2,
        cause: "from 1 to 2 shards: mean in-flight 3.0 above the target 2 for 300 ms",
      },
    ]);
    expect(second.shards).toEqual([{ className: "Tally", base: "t", shards: 3, seen: null }]);
    // The mark is explained when the reason arrives (a saved run keeps it), and not marked twice.
    expect(second.scaling.map((m) => `${m.from}>${m.to} @${m.at}: ${m.cause}`)).toEqual([
      "2>3 @2000: from 2 to 3 shards: mean in-flight 5.0 above the target 2 for 300 ms",
    ]);
    expect(third.scaling).toEqual([]);
  });

  it("marks each sharding decision once, however many shards took the Scaling step", () => {
    const events = new EngineEvents();
    const groups = [{ className: "Tally", base: "t", shards: 1, names: ["t"] }];
    let now = 0;
    const metrics = new EngineMetrics(
      {
        events,
        lifecycle: { inFlight: () => 0, shardGroups: () => groups },
        registry: { objects: () => [], get: () => undefined },
      },
      { now: () => now },
    );
    metrics.start();
    const scaling = (objectId: string, cause: string): void =>
      events.emit("transition", {
        seq: 0,
        time: 0,
        objectId,
        className: "Tally",
        from: "Active",
        to: "Scaling",
        cause,
      });
    now = 400;
    groups[0]!.shards = 2;
    scaling("1".repeat(64), "scaling t from 1 to 2 shards: mean in-flight 3.0 above the target 2 for 300 ms");
    now = 1000;
    const first = metrics.sample();
    groups[0]!.shards = 3;
    now = 1500;
    const up = "scaling t from 2 to 3 shards: mean in-flight 5.0 above the target 2 for 300 ms";
    scaling("1".repeat(64), up);
    scaling("2".repeat(64), `scaling t from 1 to 2 shards: x; then ${up}`);
    now = 2000;
    const second = metrics.sample();
    metrics.stop();
    expect(first.shards).toEqual([{ className: "Tally", base: "t", shards: 2, seen: null }]);
    expect(first.scaling).toEqual([
      {
        at: 400,
        className: "Tally",
        base: "t",
        from: 1,
        to: 2,
        cause: "from 1 to 2 shards: mean in-flight 3.0 above the target 2 for 300 ms",
      },
    ]);
    expect(second.shards).toEqual([{ className: "Tally", base: "t", shards: 3, seen: null }]);
    expect(second.scaling.map((m) => `${m.from}>${m.to} @${m.at}`)).toEqual(["2>3 @1500"]);
  });
});
