import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DeliveredMessage, QueueOutcome } from "../../../runtime/bindings/queue.ts";
import type { QueueConsumer } from "../../../runtime/config/queues.ts";
import { QueueBroker } from "../../../runtime/queues/broker.ts";
import { FakeClock } from "../../../runtime/shared/clock.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const consumer = (c: Partial<QueueConsumer> = {}): QueueConsumer => ({
  queue: "q",
  maxBatchSize: 3,
  maxBatchTimeoutMs: 1_000,
  maxRetries: 1,
  retryDelay: 0,
  deadLetterQueue: null,
  maxConcurrency: null,
  ...c,
});

const ok = (o: Partial<QueueOutcome> = {}): QueueOutcome => ({
  outcome: "ok",
  error: null,
  ackAll: false,
  retryAll: null,
  acks: [],
  retries: [],
  ...o,
});

/** A broker on a fresh data folder whose consumer answers with `decide`, recording each batch's bodies. */
function broker(
  c: QueueConsumer,
  decide: (batch: DeliveredMessage[]) => QueueOutcome | Promise<QueueOutcome>,
) {
  const dataDir = mkdtempSync(join(tmpdir(), "terrarium-broker-"));
  dirs.push(dataDir);
  const clock = new FakeClock();
  const batches: string[][] = [];
  const logs: string[] = [];
  const b = new QueueBroker({
    dataDir,
    clock,
    config: { producers: [{ binding: "Q", queue: "q", deliveryDelay: 0 }], consumers: [c] },
    deliver: async (_queue, messages) => {
      batches.push(messages.map((m) => `${new TextDecoder().decode(m.body)}#${m.attempts}`));
      return decide(messages);
    },
    log: (level, message) => logs.push(`${level} ${message}`),
  });
  b.start();
  const send = (...bodies: string[]) =>
    b.send(
      "q",
      bodies.map((s) => ({
        contentType: "text" as const,
        body: new TextEncoder().encode(s),
        delaySeconds: 0,
      })),
    );
  return { b, clock, batches, logs, send };
}

describe("QueueBroker", () => {
  it("delivers a full batch at once and a partial one after max_batch_timeout", async () => {
    const t = broker(consumer(), () => ok());
    t.send("a", "b", "c", "d");
    await t.clock.advance(0);
    await t.b.drained();
    expect(t.batches).toEqual([["a#1", "b#1", "c#1"]]);
    await t.clock.advance(999);
    expect(t.batches).toHaveLength(1);
    await t.clock.advance(1);
    await t.b.drained();
    expect(t.batches).toEqual([["a#1", "b#1", "c#1"], ["d#1"]]);
    expect(t.b.stats()[0]).toMatchObject({ queue: "q", sent: 4, acked: 4, pending: 0 });
    t.b.close();
  });

  it("waits retryAll's delay, then drops what failed max_retries + 1 times without a dead-letter queue, saying so", async () => {
    const t = broker(consumer({ maxBatchSize: 1 }), () => ok({ retryAll: { delaySeconds: 5 } }));
    t.send("a");
    await t.clock.advance(0);
    await t.b.drained();
    expect(t.b.stats()[0]).toMatchObject({ delayed: 1, retrying: 1, retried: 1 });
    await t.clock.advance(4_999);
    expect(t.batches).toEqual([["a#1"]]);
    await t.clock.advance(1);
    await t.b.drained();
    expect(t.batches).toEqual([["a#1"], ["a#2"]]);
    expect(t.b.stats()[0]).toMatchObject({ pending: 0, delayed: 0, dropped: 1 });
    expect(t.logs.find((l) => l.startsWith("warn"))).toMatch(
      /^warn Dropped message "[0-9a-f]{32}" on queue "q" after 2 failed attempts!$/,
    );
    expect(t.b.batches("q").map((b) => [b.retried, b.dropped])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    t.b.close();
  });

  it("keeps a message's own retry over ackAll, and an explicit ack over a throw", async () => {
    const t = broker(consumer({ maxRetries: 3 }), (batch) =>
      batch[0]?.attempts === 1
        ? ok({
            outcome: "exception",
            error: "Error: x",
            acks: [batch[0]!.id],
            retries: [{ id: batch[1]!.id, delaySeconds: null }],
          })
        : ok(),
    );
    t.send("a", "b", "c");
    await t.clock.advance(0);
    await t.b.drained();
    await t.clock.advance(1_000);
    await t.b.drained();
    // a was acked before the throw; b and c come again.
    expect(t.batches).toEqual([
      ["a#1", "b#1", "c#1"],
      ["b#2", "c#2"],
    ]);
    t.b.close();
  });

  /** A consumer whose batches stay in the handler until the test lets each one go. */
  function held(c: QueueConsumer) {
    const release: (() => void)[] = [];
    const t = broker(c, () => new Promise<QueueOutcome>((resolve) => release.push(() => resolve(ok()))));
    const until = async (n: number) => {
      while (t.batches.length < n) await new Promise((r) => setImmediate(r));
    };
    return { ...t, release, until };
  }

  it("keeps one batch of a queue in the handler at a time without max_concurrency", async () => {
    const t = held(consumer());
    t.send("a", "b", "c", "d", "e", "f");
    await t.until(1);
    await new Promise((r) => setImmediate(r));
    expect(t.batches).toEqual([["a#1", "b#1", "c#1"]]);
    expect(t.b.stats()[0]).toMatchObject({ batchesInFlight: 1, inFlight: 3, pending: 3 });
    t.release.shift()!();
    await t.until(2);
    expect(t.batches[1]).toEqual(["d#1", "e#1", "f#1"]);
    t.release.shift()!();
    await t.b.drained();
    expect(t.b.stats()[0]).toMatchObject({ batchesInFlight: 0, acked: 6 });
    t.b.close();
  });

  it("runs up to max_concurrency batches of a queue at once, and starts the next as one ends", async () => {
    const t = held(consumer({ maxConcurrency: 2 }));
    t.send("a", "b", "c", "d", "e", "f", "g", "h", "i");
    await t.until(2);
    await new Promise((r) => setImmediate(r));
    expect(t.batches).toEqual([
      ["a#1", "b#1", "c#1"],
      ["d#1", "e#1", "f#1"],
    ]);
    expect(t.b.stats()[0]).toMatchObject({ batchesInFlight: 2, inFlight: 6, pending: 3 });
    t.release.pop()!();
    await t.until(3);
    expect(t.batches[2]).toEqual(["g#1", "h#1", "i#1"]);
    expect(t.b.stats()[0]).toMatchObject({ batchesInFlight: 2 });
    for (const r of t.release.splice(0)) r();
    await t.b.drained();
    expect(t.b.stats()[0]).toMatchObject({ batchesInFlight: 0, acked: 9, consumerWorker: null });
    t.b.close();
  });
});
