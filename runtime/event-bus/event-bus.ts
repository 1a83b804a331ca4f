import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import type Database from "better-sqlite3";
import type { SubscriptionConfig } from "../config/terrarium.ts";
import type { ObjectRecord } from "../registry/registry.ts";
import type { Clock } from "../shared/clock.ts";
import { openDatabase } from "../shared/sqlite.ts";
import { expandTemplate, MAX_DELIVERY_ATTEMPTS, retryDelayMs, topicMatches } from "./delivery.ts";

export { expandTemplate, MAX_DELIVERY_ATTEMPTS, topicMatches } from "./delivery.ts";

/** What a subscriber's handler method receives. */
export interface BusEvent {
  id: number;
  topic: string;
  data: unknown;
  publishedAt: number;
  publisher: { className: string; id: string; name: string | null } | null;
}

export interface Delivery {
  binding: string;
  objectName: string;
  method: string;
}

export interface TopicInfo {
  topic: string;
  published: number;
  lastPublishedAt: number | null;
  subscribers: { binding: string; object: string; method: string }[];
}

export interface DeliveryRecord {
  eventId: number;
  topic: string;
  subscriber: string;
  status: "pending" | "delivered" | "dead";
  attempts: number;
  lastError: string | null;
}

/** An event as one subscriber object received it: which method, and how its delivery went. */
export interface ReceivedEvent extends BusEvent {
  binding: string;
  method: string;
  status: DeliveryRecord["status"];
  attempts: number;
  lastError: string | null;
}

/** The events one object published, and those delivered (or being delivered) to it; newest first. */
export interface ObjectEvents {
  published: BusEvent[];
  received: ReceivedEvent[];
}

const MIGRATIONS = [
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY,
     topic TEXT NOT NULL,
     data BLOB NOT NULL,
     published_at INTEGER NOT NULL,
     publisher TEXT
   );
   CREATE INDEX events_topic ON events(topic, seq);
   CREATE TABLE deliveries (
     event_seq INTEGER NOT NULL,
     subscriber TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL,
     last_error TEXT,
     PRIMARY KEY (subscriber, event_seq)
   );
   CREATE INDEX deliveries_pending ON deliveries(status, subscriber, event_seq);`,
  // The publisher's object id as a column of its own, so an object's events are found by index.
  `ALTER TABLE events ADD COLUMN publisher_id TEXT;
   UPDATE events SET publisher_id = json_extract(publisher, '$.id') WHERE publisher IS NOT NULL;
   CREATE INDEX events_publisher ON events(publisher_id, seq);`,
];

type EventRow = { seq: number; topic: string; data: Buffer; published_at: number; publisher: string | null };

function eventOf(row: EventRow): BusEvent {
  return {
    id: row.seq,
    topic: row.topic,
    data: deserialize(row.data),
    publishedAt: row.published_at,
    publisher: row.publisher ? (JSON.parse(row.publisher) as BusEvent["publisher"]) : null,
  };
}

function subscriberKey(d: Delivery): string {
  return JSON.stringify([d.binding, d.objectName, d.method]);
}

function parseSubscriber(key: string): Delivery {
  const [binding, objectName, method] = JSON.parse(key) as [string, string, string];
  return { binding, objectName, method };
}

/**
 * The Event Bus: `env.<binding>.publish(topic, data)` from any object or
 * the entry Worker; subscriptions declared in terrarium.json call a method
 * on a subscriber object (waking it if it hibernates). Every event and every
 * delivery is persisted (`<data>/events.sqlite`); delivery is at least once,
 * in publish order per subscriber, retried with backoff when the handler
 * throws.
 */
export class EventBus {
  readonly #db: Database.Database;
  readonly #clock: Clock;
  #subs: SubscriptionConfig[];
  readonly #deliver: (d: Delivery, e: BusEvent) => Promise<void>;
  readonly #busy = new Set<string>();
  #timer: { cancel(): void } | null = null;
  #closed = false;
  #stmt;

  constructor(deps: {
    dataDir: string;
    clock: Clock;
    subscriptions: SubscriptionConfig[];
    deliver: (d: Delivery, e: BusEvent) => Promise<void>;
  }) {
    this.#db = openDatabase(join(deps.dataDir, "events.sqlite"), MIGRATIONS);
    this.#clock = deps.clock;
    this.#subs = deps.subscriptions;
    this.#deliver = deps.deliver;
    const db = this.#db;
    this.#stmt = {
      insertEvent: db.prepare<[string, Buffer, number, string | null, string | null]>(
        "INSERT INTO events (topic, data, published_at, publisher, publisher_id) VALUES (?, ?, ?, ?, ?)",
      ),
      insertDelivery: db.prepare<[number, string, number]>(
        "INSERT OR IGNORE INTO deliveries (event_seq, subscriber, status, next_at) VALUES (?, ?, 'pending', ?)",
      ),
      pendingSubscribers: db.prepare<[], { subscriber: string }>(
        "SELECT DISTINCT subscriber FROM deliveries WHERE status = 'pending'",
      ),
      headOf: db.prepare<[string], { event_seq: number; attempts: number; next_at: number }>(
        "SELECT event_seq, attempts, next_at FROM deliveries WHERE status = 'pending' AND subscriber = ? ORDER BY event_seq LIMIT 1",
      ),
      event: db.prepare<
        [number],
        { seq: number; topic: string; data: Buffer; published_at: number; publisher: string | null }
      >("SELECT * FROM events WHERE seq = ?"),
      delivered: db.prepare<[string, number]>(
        "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1 WHERE subscriber = ? AND event_seq = ?",
      ),
      failed: db.prepare<[string, number, string, string, number]>(
        "UPDATE deliveries SET status = ?, attempts = attempts + 1, next_at = ?, last_error = ? WHERE subscriber = ? AND event_seq = ?",
      ),
      topics: db.prepare<[], { topic: string; n: number; last: number }>(
        "SELECT topic, COUNT(*) AS n, MAX(published_at) AS last FROM events GROUP BY topic ORDER BY topic",
      ),
      recent: db.prepare<
        [number, number],
        { seq: number; topic: string; data: Buffer; published_at: number; publisher: string | null }
      >("SELECT * FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?"),
      deliveriesOf: db.prepare<[number], Record<string, unknown>>(
        "SELECT d.*, e.topic FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.event_seq = ?",
      ),
      publishedBy: db.prepare<[string, number], EventRow>(
        "SELECT seq, topic, data, published_at, publisher FROM events WHERE publisher_id = ? ORDER BY seq DESC LIMIT ?",
      ),
      // Subscriber keys are JSON arrays [binding, objectName, method]: every key of one
      // object starts with the same prefix, followed by the method's opening quote.
      deliveredTo: db.prepare<
        [string, string, number],
        EventRow & { subscriber: string; status: string; attempts: number; last_error: string | null }
      >(
        `SELECT e.seq, e.topic, e.data, e.published_at, e.publisher, d.subscriber, d.status, d.attempts, d.last_error
         FROM deliveries d JOIN events e ON e.seq = d.event_seq
         WHERE d.subscriber >= ? AND d.subscriber < ? ORDER BY d.event_seq DESC LIMIT ?`,
      ),
      recentDeliveries: db.prepare<[number], Record<string, unknown>>(
        "SELECT d.*, e.topic FROM deliveries d JOIN events e ON e.seq = d.event_seq ORDER BY d.event_seq DESC LIMIT ?",
      ),
    };
  }

  /** New subscriptions apply to events published from now on. */
  setSubscriptions(subs: SubscriptionConfig[]): void {
    this.#subs = subs;
  }

  start(): void {
    this.#timer = this.#clock.setInterval(() => this.pump(), 250);
    this.pump();
  }

  /** Persists an event and its deliveries, then starts delivering. */
  publish(topic: string, data: unknown, from: ObjectRecord | null): { id: number } {
    if (this.#closed) throw new Error("the event bus is closed");
    let blob: Buffer;
    try {
      blob = serialize(data);
    } catch (e) {
      throw new TypeError(`event data for ${topic} cannot be cloned: ${(e as Error).message}`);
    }
    const now = this.#clock.now();
    const publisher = from
      ? JSON.stringify({ className: from.className, id: from.id, name: from.name })
      : null;
    const id = this.#db.transaction(() => {
      const seq = Number(
        this.#stmt.insertEvent.run(topic, blob, now, publisher, from?.id ?? null).lastInsertRowid,
      );
      for (const s of this.#subs) {
        if (!topicMatches(s.topic, topic)) continue;
        const objectName = expandTemplate(s.object, data);
        this.#stmt.insertDelivery.run(
          seq,
          subscriberKey({ binding: s.binding, objectName, method: s.method }),
          now,
        );
      }
      return seq;
    })();
    queueMicrotask(() => this.pump());
    return { id };
  }

  /** Starts a delivery for every subscriber whose next event is due and who has none in flight. */
  pump(): void {
    if (this.#closed) return;
    for (const { subscriber } of this.#stmt.pendingSubscribers.all()) {
      if (!this.#busy.has(subscriber)) void this.#drain(subscriber);
    }
  }

  async #drain(subscriber: string): Promise<void> {
    this.#busy.add(subscriber);
    try {
      for (;;) {
        if (this.#closed) return;
        const head = this.#stmt.headOf.get(subscriber);
        if (!head || head.next_at > this.#clock.now()) return;
        const row = this.#stmt.event.get(head.event_seq);
        if (!row) return;
        const event = eventOf(row);
        try {
          await this.#deliver(parseSubscriber(subscriber), event);
          if (this.#closed) return;
          this.#stmt.delivered.run(subscriber, head.event_seq);
        } catch (e) {
          if (this.#closed) return;
          const attempts = head.attempts + 1;
          const dead = attempts >= MAX_DELIVERY_ATTEMPTS;
          const backoff = retryDelayMs(head.attempts);
          this.#stmt.failed.run(
            dead ? "dead" : "pending",
            this.#clock.now() + backoff,
            (e as Error).message ?? String(e),
            subscriber,
            head.event_seq,
          );
          if (!dead) return;
        }
      }
    } finally {
      this.#busy.delete(subscriber);
    }
  }

  topics(): TopicInfo[] {
    const published = new Map(this.#stmt.topics.all().map((t) => [t.topic, t]));
    const names = new Set([...published.keys(), ...this.#subs.map((s) => s.topic)]);
    return [...names].sort().map((topic) => ({
      topic,
      published: published.get(topic)?.n ?? 0,
      lastPublishedAt: published.get(topic)?.last ?? null,
      subscribers: this.#subs
        .filter((s) => topicMatches(s.topic, topic) || s.topic === topic)
        .map((s) => ({
          binding: s.binding,
          object: s.object,
          method: s.method,
        })),
    }));
  }

  recent(opts: { limit?: number; before?: number } = {}): BusEvent[] {
    return this.#stmt.recent
      .all(opts.before ?? Number.MAX_SAFE_INTEGER, Math.min(opts.limit ?? 100, 1000))
      .map(eventOf);
  }

  deliveries(eventId?: number, limit = 100): DeliveryRecord[] {
    const rows =
      eventId === undefined ? this.#stmt.recentDeliveries.all(limit) : this.#stmt.deliveriesOf.all(eventId);
    return rows.map((r) => ({
      eventId: r.event_seq as number,
      topic: r.topic as string,
      subscriber: r.subscriber as string,
      status: r.status as DeliveryRecord["status"],
      attempts: r.attempts as number,
      lastError: (r.last_error as string | null) ?? null,
    }));
  }

  /**
   * What one object published, and what was delivered to it under any of
   * `bindings` (its class's) by its name; at most `limit` of each.
   */
  ofObject(
    object: { id: string; name: string | null },
    bindings: readonly string[],
    limit = 100,
  ): ObjectEvents {
    const n = Math.min(limit, 1000);
    const published = this.#stmt.publishedBy.all(object.id, n).map(eventOf);
    const received: ReceivedEvent[] = [];
    if (object.name !== null) {
      for (const binding of bindings) {
        const prefix = JSON.stringify([binding, object.name]).slice(0, -1) + ",";
        for (const row of this.#stmt.deliveredTo.all(`${prefix}"`, `${prefix}#`, n)) {
          const d = parseSubscriber(row.subscriber);
          received.push({
            ...eventOf(row),
            binding: d.binding,
            method: d.method,
            status: row.status as DeliveryRecord["status"],
            attempts: row.attempts,
            lastError: row.last_error,
          });
        }
      }
      received.sort((a, b) => b.id - a.id || a.method.localeCompare(b.method));
      received.length = Math.min(received.length, n);
    }
    return { published, received };
  }

  /** Starts no delivery from here on; waits up to `waitMs` for those in flight, then closes the log. */
  async close(waitMs = 2_000): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    const deadline = Date.now() + waitMs;
    while (this.#busy.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.#db.close();
  }
}
