import { describe, expect, it } from "vitest";
import type { TransitionRecord, TopicInfo } from "../../../runtime/api/contract.ts";
import { pluralize } from "../../../renderer/src/components/format.ts";
import { defaultDraft } from "../../../renderer/src/stores/console-draft.ts";
import { mergeBySeq } from "../../../renderer/src/stores/seq-merge.ts";
import { splitTopics } from "../../../renderer/src/stores/topics.ts";
import {
  liveHeld,
  runVerdict,
  type HeldBack,
  type RunSecond,
} from "../../../renderer/src/views/console/load-series.ts";

const ID = "a".repeat(64);

function transition(
  seq: number,
  from: TransitionRecord["from"],
  to: TransitionRecord["to"],
): TransitionRecord {
  return { seq, time: seq, objectId: ID, className: "Counter", from, to, cause: "test" };
}

describe("an object's timeline", () => {
  it("merges the fetched history and the live stream by seq, each transition once, in order", () => {
    const fetched = [transition(1, null, "Created"), transition(2, "Created", "Initializing")];
    const live = [transition(2, "Created", "Initializing"), transition(3, "Initializing", "Active")];
    expect(mergeBySeq(fetched, live, 100).map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(mergeBySeq(live, fetched, 100).map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(mergeBySeq(fetched, live, 2).map((t) => t.seq)).toEqual([2, 3]);
  });

  it("shows a transition once when the live stream brings what the refresh after Hibernate now also fetched", () => {
    // What the page has from the stream, then what the refresh after Hibernate now fetched
    // (the hibernation included), then the stream's next batch, which carries the hibernation too.
    const page = [1, 2, 3, 4].map((n) => transition(n, "Active", "Idle"));
    const hibernated = transition(5, "Idle", "Hibernating");
    const afterRefresh = mergeBySeq([...page, hibernated], page, 10_000);
    const afterStream = mergeBySeq(
      afterRefresh,
      [hibernated, transition(6, "Hibernating", "Initializing")],
      10_000,
    );
    expect(afterStream.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

function second(over: Partial<RunSecond> & { held?: Partial<HeldBack> }): RunSecond {
  const held: HeldBack = {
    waitingForWorker: 0,
    longestWorkerWaitMs: 0,
    poolEmptyMs: 0,
    initializing: 0,
    longestInitializingMs: 0,
    ...over.held,
  };
  return {
    t: 1,
    windowMs: 1000,
    level: 100,
    sent: 100,
    completed: 100,
    errors: 0,
    errorsByKind: {},
    rps: 100,
    latencyMs: { p50: 5, p90: 8, p99: 10, "p99.9": 10, max: 10 },
    inFlight: 0,
    ws: null,
    engine: {
      windowMs: 1000,
      held,
      byState: {},
      classes: [],
      hottest: [],
      shards: [],
      scaling: [],
      flags: [],
    },
    ...over,
  } as RunSecond;
}

describe("what holds a live run back", () => {
  it("says nothing when nothing waits", () => {
    expect(liveHeld([second({})])).toEqual([]);
  });

  it("names objects waiting for a worker and how long the pool was empty", () => {
    const lines = liveHeld([
      second({ held: { waitingForWorker: 40, longestWorkerWaitMs: 2_500, poolEmptyMs: 900 } }),
      second({
        t: 2,
        completed: 0,
        inFlight: 300,
        held: {
          waitingForWorker: 60,
          longestWorkerWaitMs: 3_400,
          poolEmptyMs: 1000,
          initializing: 60,
          longestInitializingMs: 3_500,
        },
      }),
    ]);
    expect(lines[0]).toBe("300 requests in flight and none answered in the last second.");
    expect(lines[1]).toMatch(
      /^60 objects waiting for a worker thread \(the longest 3\.4 s\); no pre-started worker free for 1\.9 s of the last 2 s/,
    );
    expect(lines[2]).toMatch(
      /^Up to 60 objects in Initializing, the longest for 3\.5 s, mostly waiting for a worker/,
    );
  });

  it("puts slow requests with nothing waiting on the project's own code", () => {
    const lines = liveHeld([
      second({ latencyMs: { p50: 1500, p90: 1600, p99: 1700, "p99.9": 1700, max: 1700 } }),
    ]);
    expect(lines).toEqual([
      "No object is waiting for a worker or stuck in Initializing, yet requests take 1.5 s (p50): the time goes in the objects' own code (the project).",
    ]);
  });
});

describe("a run's mark in the list", () => {
  it("is a green check only when thresholds held, or with none and no errors", () => {
    expect(runVerdict({ ok: true, errorRate: 0.532, thresholds: 0 })).toMatchObject({
      mark: "!",
      kind: "warn",
    });
    expect(runVerdict({ ok: true, errorRate: 0.532 })).toMatchObject({ mark: "!" });
    expect(runVerdict({ ok: true, errorRate: 0, thresholds: 0 })).toMatchObject({ mark: "✓", kind: "ok" });
    expect(runVerdict({ ok: true, errorRate: 0.004, thresholds: 1 })).toMatchObject({ mark: "✓" });
    expect(runVerdict({ ok: false, errorRate: 0, thresholds: 1 })).toMatchObject({
      mark: "✗",
      kind: "failed",
    });
  });
});

describe("defaults and wording", () => {
  it("starts the console on a route of the project that takes GET without parameters, else GET /", () => {
    expect(defaultDraft([])).toMatchObject({ method: "GET", path: "/" });
    expect(
      defaultDraft([
        { pattern: "/analytics/events", method: ["POST"], binding: "A", object: "main" },
        { pattern: "/custom/:name", method: null, binding: "C", object: "{name}" },
      ]),
    ).toMatchObject({ method: "GET", path: "/" });
    expect(
      defaultDraft([{ pattern: "/health", method: ["GET"], binding: "H", object: "main" }]),
    ).toMatchObject({ method: "GET", path: "/health" });
  });

  it("counts in words", () => {
    expect(pluralize(1, "object")).toBe("1 object");
    expect(pluralize(0, "object")).toBe("0 objects");
    expect(pluralize(1500, "class", "classes")).toBe("1,500 classes");
  });

  it("lists subscription patterns apart from topics, with the topics they match", () => {
    const sub = { binding: "UI", object: "{data.userId}", method: "invalidate" };
    const topics: TopicInfo[] = [
      { topic: "file.*", published: 0, lastPublishedAt: null, subscribers: [sub] },
      { topic: "record.*", published: 0, lastPublishedAt: null, subscribers: [sub] },
      { topic: "record.created", published: 3, lastPublishedAt: 1, subscribers: [sub] },
      { topic: "user.created", published: 0, lastPublishedAt: null, subscribers: [] },
    ];
    const { topics: concrete, patterns } = splitTopics(topics);
    expect(concrete.map((t) => t.topic)).toEqual(["record.created", "user.created"]);
    expect(patterns).toEqual([
      { pattern: "file.*", subscribers: [sub], matches: [] },
      { pattern: "record.*", subscribers: [sub], matches: ["record.created"] },
    ]);
  });
});
