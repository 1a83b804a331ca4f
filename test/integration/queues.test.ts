import { describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/engine.ts";
import { FakeClock } from "../../runtime/shared/clock.ts";
import { enginesPerTest, request, until } from "../helpers/project.ts";

const engines = enginesPerTest();

interface Seen {
  queue: string;
  name: string;
  attempts: number;
}

async function seen(engine: Engine): Promise<Seen[]> {
  return (await request(engine, "GET", "/seen")).json as Seen[];
}

function stats(engine: Engine, queue: string) {
  const s = engine.queues.stats().find((q) => q.queue === queue);
  if (!s) throw new Error(`no queue ${queue}`);
  return s;
}

describe("Queues: a producer and a consumer in the entry Worker", () => {
  it("delivers batches to queue(), retries what was not acked, and dead-letters what keeps failing", async () => {
    const { engine } = await engines.open("queues");
    const logs: string[] = [];
    engine.events.on("log", (l) => logs.push(`${l.level} ${l.message}`));
    expect((await request(engine, "POST", "/send", '{"name":"a"}')).json).toEqual({ sent: "a" });
    await request(engine, "POST", "/send", '{"name":"b","action":"retry"}');
    await request(
      engine,
      "POST",
      "/send-batch",
      '[{"name":"c","action":"throw"},{"name":"d","action":"ack-then-throw"}]',
    );
    await until(
      async () => (await seen(engine)).filter((s) => s.queue === "jobs-dlq").length === 2,
      "b and c to reach the dead-letter queue",
    );
    const all = await seen(engine);
    const attempts = (name: string, queue = "jobs") =>
      all.filter((s) => s.name === name && s.queue === queue).map((s) => s.attempts);
    expect(attempts("a")).toEqual([1]);
    expect(attempts("b")).toEqual([1, 2]);
    expect(attempts("c")).toEqual([1, 2]);
    // Acked before the handler threw: not delivered again (Cloudflare's rule).
    expect(attempts("d")).toEqual([1]);
    expect(attempts("b", "jobs-dlq")).toEqual([1]);
    expect(attempts("c", "jobs-dlq")).toEqual([1]);
    await until(() => stats(engine, "jobs-dlq").acked === 2, "the dead-letter queue's batches to settle");
    expect(stats(engine, "jobs")).toMatchObject({
      producers: ["JOBS", "LATER"],
      pending: 0,
      delayed: 0,
      inFlight: 0,
      sent: 4,
      acked: 2,
      retried: 2,
      deadLettered: 2,
      dropped: 0,
    });
    expect(stats(engine, "jobs-dlq")).toMatchObject({ deadLetterFor: ["jobs"], pending: 0 });
    // The Inspector reads the same through the control API, its arguments checked.
    expect(await engine.api.queues()).toEqual(engine.queues.stats());
    const batches = await engine.api.queueBatches({ queue: "jobs" });
    await expect(engine.api.queueBatches({ queue: "" })).rejects.toThrow();
    expect(batches.some((b) => b.outcome === "exception" && b.error === "Error: the consumer failed")).toBe(
      true,
    );
    expect(batches.reduce((n, b) => n + b.deadLettered, 0)).toBe(2);
    expect(
      logs.filter((l) =>
        /^warn Moving message "[0-9a-f]{32}" on queue "jobs" to dead letter queue "jobs-dlq" after 2 failed attempts\.\.\.$/.test(
          l,
        ),
      ),
    ).toHaveLength(2);
    expect(logs).toContain('error queue() on "jobs" threw: Error: the consumer failed');
  });

  it("takes messages from a Durable Object's binding as from the entry Worker's", async () => {
    const { engine } = await engines.open("queues");
    expect((await request(engine, "POST", "/send-from-object", '{"name":"from-object"}')).json).toEqual({
      sent: "from-object",
    });
    await until(async () => (await seen(engine)).length === 1, "the object's message to be delivered");
    expect(await seen(engine)).toEqual([{ queue: "jobs", name: "from-object", attempts: 1 }]);
  });

  it("keeps a delayed message across a restart and delivers it when its delay is over", async () => {
    const start = Date.now();
    const t = await engines.open("queues", { clock: new FakeClock(start) });
    // LATER's delivery_delay is 1 s: the message waits in the data folder.
    await request(t.engine, "POST", "/send?via=later", '{"name":"late"}');
    expect(stats(t.engine, "jobs")).toMatchObject({ delayed: 1, pending: 0, sent: 1 });
    const clock = new FakeClock(start);
    const engine = await t.reopen({ clock });
    expect(stats(engine, "jobs")).toMatchObject({ delayed: 1, pending: 0 });
    expect(await seen(engine)).toEqual([]);
    await clock.advance(1_100);
    await until(async () => (await seen(engine)).length === 1, "the delayed message's delivery");
    expect(await seen(engine)).toEqual([{ queue: "jobs", name: "late", attempts: 1 }]);
  });

  it("delivers a message retried before a restart after it, with its attempts counted", async () => {
    const start = Date.now();
    const first = new FakeClock(start);
    const t = await engines.open("queues", { clock: first });
    await request(t.engine, "POST", "/send", '{"name":"again","action":"retry-later"}');
    await first.advance(100);
    await until(
      () => stats(t.engine, "jobs").retried === 1,
      "the first delivery to be retried (retry({ delaySeconds: 2 }))",
    );
    expect(stats(t.engine, "jobs")).toMatchObject({ delayed: 1, retrying: 1, inFlight: 0 });
    const clock = new FakeClock(start + 100);
    const engine = await t.reopen({ clock });
    expect(stats(engine, "jobs")).toMatchObject({ delayed: 1, retrying: 1 });
    // The retry delay, then the batch timeout.
    await clock.advance(2_100);
    await until(
      () => stats(engine, "jobs").deadLettered === 1,
      "the second attempt, retried again: dead-lettered",
    );
    await clock.advance(100);
    await until(
      async () => (await seen(engine)).some((s) => s.queue === "jobs-dlq"),
      "the dead-letter queue's delivery",
    );
    expect(await seen(engine)).toEqual([
      { queue: "jobs", name: "again", attempts: 1 },
      { queue: "jobs", name: "again", attempts: 2 },
      { queue: "jobs-dlq", name: "again", attempts: 1 },
    ]);
  });

  it("delivers again a batch that was in flight when Terrarium stopped", async () => {
    const t = await engines.open("queues");
    await request(t.engine, "POST", "/send", '{"name":"slow","action":"slow-once"}');
    await until(async () => (await seen(t.engine)).length === 1, "the first delivery to start");
    expect(stats(t.engine, "jobs")).toMatchObject({ inFlight: 1 });
    // The handler takes a minute: the stop's grace period cuts it short.
    await t.engine.close({ graceMs: 100 });
    const engine = await t.reopen();
    await until(async () => (await seen(engine)).length === 2, "the batch to be delivered again");
    await until(() => stats(engine, "jobs").acked === 1, "the second delivery to be acked");
    expect((await seen(engine)).map((s) => s.attempts)).toEqual([1, 1]);
    expect((await engine.api.queueBatches({ queue: "jobs" })).map((b) => b.outcome)).toEqual([
      "ok",
      "interrupted",
    ]);
  });

  it("refuses what workerd refuses, with its messages, and keeps nothing of it", async () => {
    const { engine } = await engines.open("queues");
    const big = JSON.stringify({ name: "x".repeat(128_000) });
    const res = await request(engine, "POST", "/send", big);
    expect(res.status).toBe(500);
    expect(res.body).toContain("Queue send failed: message length of 128011 bytes exceeds limit of 128000");
    const many = JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ name: `m${i}` })));
    const batch = await request(engine, "POST", "/send-batch", many);
    expect(batch.body).toContain("Queue sendBatch failed: batch message count of 101 exceeds limit of 100");
    expect(stats(engine, "jobs")).toMatchObject({ sent: 0, pending: 0, delayed: 0 });
  });
});
