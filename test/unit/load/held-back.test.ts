import { describe, expect, it } from "vitest";
import type { ObjectRecord } from "../../../runtime/registry/registry.ts";
import { EngineEvents } from "../../../runtime/shared/events.ts";
import { Histogram } from "../../../runtime/load/histogram.ts";
import { EngineMetrics, noneHeld } from "../../../runtime/load/metrics.ts";
import { explainHeld, runSecond } from "../../../runtime/load/summary.ts";
import type { GeneratorTick } from "../../../runtime/load/generator.ts";

function tick(second: number, windowMs: number, completed: number): GeneratorTick {
  const h = new Histogram();
  for (let i = 0; i < completed; i++) h.record(5_000);
  return {
    second,
    windowMs,
    level: 200,
    sent: completed,
    completed,
    errors: {},
    statuses: {},
    inFlight: 0,
    latency: h.toJSON(),
    ws: null,
  };
}

describe("a run's seconds", () => {
  it("counts a short last window per second of the axis, not as a rate over its few ms", () => {
    expect(runSecond(tick(10, 1000, 200), null).rps).toBe(200);
    expect(runSecond(tick(10, 1003, 200), null).rps).toBe(199.4);
    // The end of a 200 req/s run: one straggler in a 2 ms window is 1 answered, not 500 req/s.
    expect(runSecond(tick(11, 2, 1), null).rps).toBe(1);
    expect(runSecond(tick(11, 400, 80), null).rps).toBe(80);
  });
});

describe("what held requests back", () => {
  const base = {
    sent: 1000,
    unanswered: 0,
    dropped: 0,
    p50Ms: 5,
    generator: { cpuCores: 0.2, maxLagMs: 3 },
  };

  it("says nothing about a run that waited on nothing", () => {
    expect(explainHeld({ ...base, held: noneHeld() })).toEqual([]);
  });

  it("names Terrarium's worker supply when new objects waited for worker threads", () => {
    const lines = explainHeld({
      ...base,
      unanswered: 532,
      p50Ms: 7_300,
      held: {
        waitingForWorker: 180,
        longestWorkerWaitMs: 6_900,
        poolEmptyMs: 8_400,
        initializing: 180,
        longestInitializingMs: 7_100,
      },
    });
    expect(lines[0]).toBe("532 of 1,000 requests got no answer before the run gave up on them.");
    expect(lines[1]).toMatch(
      /^Terrarium's worker supply: up to 180 objects waited for a worker thread at once, the longest for 6\.9 s; no pre-started worker was free for 8\.4 s of the run\./,
    );
    expect(lines[2]).toMatch(
      /Initializing for up to 7\.1 s, up to 180 at once, nearly all of it waiting for a worker/,
    );
  });

  it("names the generator's connections when requests queued in it, not at the server", () => {
    const lines = explainHeld({
      ...base,
      p50Ms: 4_000,
      held: noneHeld(),
      connections: { open: 64, maxOutstanding: 400 },
    });
    expect(lines[0]).toBe(
      "The load generator keeps 64 connections: up to 336 requests waited in it for one (their latency counts that wait); the server saw at most 64 at once.",
    );
    // Nothing waited inside Terrarium: the rest of the time went in the handlers.
    expect(lines[1]).toMatch(/^No object waited for a worker/);
    expect(
      explainHeld({ ...base, held: noneHeld(), connections: { open: 64, maxOutstanding: 400 } }),
    ).toEqual([]);
  });

  it("names the project when objects stayed in Initializing with a worker in hand", () => {
    const lines = explainHeld({
      ...base,
      p50Ms: 2_000,
      held: { ...noneHeld(), initializing: 10, longestInitializingMs: 2_100 },
    });
    expect(lines).toEqual([
      "The project: objects stayed in Initializing for up to 2.1 s (2.1 s more than any wait for a worker): their constructors (or blockConcurrencyWhile) are slow.",
    ]);
  });

  it("names the project's handlers when requests were slow and nothing waited", () => {
    expect(explainHeld({ ...base, p50Ms: 1_500, held: noneHeld() })).toEqual([
      "No object waited for a worker or stayed long in Initializing: the time went in the objects' own handlers (the project).",
    ]);
  });

  it("names the machine when the generator itself was late", () => {
    const lines = explainHeld({
      ...base,
      p50Ms: 1_200,
      held: noneHeld(),
      generator: { cpuCores: 0.95, maxLagMs: 800 },
    });
    expect(lines).toEqual([
      "The machine: the load generator itself used 0.95 cores and started requests up to 0.8 s late.",
    ]);
  });
});

describe("the engine's hold-back figures", () => {
  it("samples objects waiting for a worker, the pool running dry and objects in Initializing", () => {
    const events = new EngineEvents();
    const objects = new Map<string, ObjectRecord>();
    let now = 0;
    let supply = { waiting: 0, longestWaitMs: 0, pooled: 4, starting: 0, lending: 0 };
    const metrics = new EngineMetrics(
      {
        events,
        lifecycle: { inFlight: () => 0, workerSupply: () => supply },
        registry: { objects: () => objects.values(), get: (id) => objects.get(id) },
      },
      { now: () => now },
    );
    metrics.start();
    const move = (id: string, from: ObjectRecord["state"] | null, to: ObjectRecord["state"]): void =>
      events.emit("transition", { seq: 0, time: now, objectId: id, className: "C", from, to, cause: "x" });
    move("a", "Created", "Initializing");
    move("b", "Hibernating", "Initializing");
    now = 300;
    supply = { waiting: 2, longestWaitMs: 300, pooled: 0, starting: 2, lending: 0 };
    const first = metrics.sample();
    expect(first.held).toEqual({
      waitingForWorker: 2,
      longestWorkerWaitMs: 300,
      poolEmptyMs: 300,
      initializing: 2,
      longestInitializingMs: 300,
    });
    now = 1_300;
    move("a", "Initializing", "Active");
    supply = { waiting: 0, longestWaitMs: 0, pooled: 1, starting: 0, lending: 0 };
    const second = metrics.sample();
    metrics.stop();
    // "b" is still Initializing, 1.3 s in; nothing waits for a worker any more.
    expect(second.held).toEqual({
      waitingForWorker: 0,
      longestWorkerWaitMs: 0,
      poolEmptyMs: 0,
      initializing: 1,
      longestInitializingMs: 1_300,
    });
  });
});
