import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventBus } from "../../../runtime/event-bus/event-bus.ts";
import type { ObjectRecord } from "../../../runtime/registry/registry.ts";
import { FakeClock } from "../../../runtime/shared/clock.ts";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "terrarium-bus-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const A = "a".repeat(64);
const B = "b".repeat(64);
const obj = (id: string, name: string | null): ObjectRecord =>
  ({ id, className: "Pub", name }) as unknown as ObjectRecord;

function bus(subscriptions: ConstructorParameters<typeof EventBus>[0]["subscriptions"] = []): EventBus {
  // No delivery runs: the bus is never started, so deliveries stay pending.
  return new EventBus({ dataDir, clock: new FakeClock(0), subscriptions, deliver: async () => {} });
}

describe("an object's events", () => {
  it("finds what an object published and what was addressed to it by name, and nothing of another's", async () => {
    const b = bus([
      { topic: "t.*", binding: "LOG", object: "log-{data.room}", method: "onEvent" },
      // A name that begins like another's must not match it.
      { topic: "t.*", binding: "LOG", object: "log-{data.room}x", method: "other" },
    ]);
    b.publish("t.one", { room: "r" }, obj(A, "a"));
    b.publish("t.two", { room: "r" }, obj(B, "b"));
    b.publish("t.three", { room: "q" }, null);

    expect(b.ofObject({ id: A, name: "a" }, []).published.map((e) => e.topic)).toEqual(["t.one"]);
    const received = b.ofObject({ id: "c".repeat(64), name: "log-r" }, ["LOG", "OTHER"]).received;
    expect(received.map((e) => [e.topic, e.method, e.status, e.publisher?.name])).toEqual([
      ["t.two", "onEvent", "pending", "b"],
      ["t.one", "onEvent", "pending", "a"],
    ]);
    expect(b.ofObject({ id: "c".repeat(64), name: null }, ["LOG"]).received).toEqual([]);
    await b.close();
  });

  it("finds the publisher of events written before the publisher column existed", async () => {
    // The first schema, as an earlier Terrarium left it.
    const db = new Database(join(dataDir, "events.sqlite"));
    db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, data BLOB NOT NULL,
               published_at INTEGER NOT NULL, publisher TEXT);
             CREATE TABLE deliveries (event_seq INTEGER NOT NULL, subscriber TEXT NOT NULL, status TEXT NOT NULL,
               attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_error TEXT,
               PRIMARY KEY (subscriber, event_seq));`);
    db.prepare("INSERT INTO events (topic, data, published_at, publisher) VALUES (?, ?, ?, ?)").run(
      "old.topic",
      serialize({ x: 1 }),
      5,
      JSON.stringify({ className: "Pub", id: A, name: "a" }),
    );
    db.pragma("user_version = 1");
    db.close();

    const b = bus();
    expect(b.ofObject({ id: A, name: "a" }, []).published).toEqual([
      {
        id: 1,
        topic: "old.topic",
        data: { x: 1 },
        publishedAt: 5,
        publisher: { className: "Pub", id: A, name: "a" },
      },
    ]);
    await b.close();
  });
});
