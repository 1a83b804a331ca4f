import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type Database from "better-sqlite3";
import type {
  BatchMetrics,
  DeliveredMessage,
  OutgoingMessage,
  QueueContentType,
  QueueOutcome,
} from "../bindings/queue.ts";
import type { QueueConsumer, QueuesConfig } from "../config/queues.ts";
import { queueNames } from "../config/queues.ts";
import type { Clock } from "../shared/clock.ts";
import { openDatabase } from "../shared/sqlite.ts";

/**
 * The Queues broker: the orchestrator's side of Cloudflare Queues. Producers
 * (`env.<binding>.send/sendBatch`, in any worker) hand it their messages,
 * which it persists at once in `<data>/queues.sqlite`; for each queue this
 * Worker consumes, it delivers batches to the Worker's `queue()` handler:
 * as soon as `max_batch_size` messages are ready, else `max_batch_timeout`
 * after the oldest became ready. A queue has at most `max_concurrency`
 * batches in the handler at once (as on Cloudflare, where it caps the
 * consumer's concurrent invocations); without it, one at a time, as wrangler
 * dev delivers them (Miniflare ignores `max_concurrency`). What the handler decided is applied in one
 * transaction: acked messages go, retried ones wait `delaySeconds`
 * (retry(), else retryAll(), else `retry_delay`), and one that has failed
 * `max_retries + 1` times moves to the dead-letter queue, or is dropped with
 * a warning in the logs. A handler that throws retries every message it did
 * not ack (Cloudflare's rule; wrangler dev also retries the acked ones).
 *
 * Messages survive a restart: a batch in flight when Terrarium stopped is
 * delivered again (at least once), and delays and retry delays are kept as
 * times, so a retried message is delivered after a restart when its delay
 * is over.
 */

const MIGRATIONS = [
  `CREATE TABLE messages (
     seq INTEGER PRIMARY KEY,
     queue TEXT NOT NULL,
     id TEXT NOT NULL,
     sent_at INTEGER NOT NULL,
     content_type TEXT NOT NULL,
     body BLOB NOT NULL,
     failed INTEGER NOT NULL DEFAULT 0,
     visible_at INTEGER NOT NULL,
     batch INTEGER
   );
   CREATE INDEX messages_ready ON messages(queue, batch, visible_at, seq);
   CREATE TABLE batches (
     seq INTEGER PRIMARY KEY,
     queue TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     size INTEGER NOT NULL,
     acked INTEGER NOT NULL DEFAULT 0,
     retried INTEGER NOT NULL DEFAULT 0,
     dead_lettered INTEGER NOT NULL DEFAULT 0,
     dropped INTEGER NOT NULL DEFAULT 0,
     outcome TEXT,
     error TEXT
   );
   CREATE INDEX batches_queue ON batches(queue, seq);
   CREATE TABLE counters (
     queue TEXT PRIMARY KEY,
     sent INTEGER NOT NULL DEFAULT 0,
     acked INTEGER NOT NULL DEFAULT 0,
     retried INTEGER NOT NULL DEFAULT 0,
     dead_lettered INTEGER NOT NULL DEFAULT 0,
     dropped INTEGER NOT NULL DEFAULT 0
   );`,
];

/** Batches kept per queue for the Inspector. */
const KEPT_BATCHES = 200;

interface MessageRow {
  seq: number;
  queue: string;
  id: string;
  sent_at: number;
  content_type: string;
  body: Buffer;
  failed: number;
}

/** One queue as the Inspector shows it. */
export interface QueueStats {
  queue: string;
  /** The producer bindings that send to it (another Worker's as `BINDING (worker)`). */
  producers: string[];
  /** Consumed by a Worker's queue() handler (with its settings), or not. */
  consumer: QueueConsumer | null;
  /** The Worker whose queue() handler consumes it (null: none does). */
  consumerWorker: string | null;
  /** Batches of it in the handler now (at most the consumer's `maxConcurrency`, else 1). */
  batchesInFlight: number;
  /** Other queues' consumers that dead-letter into this one. */
  deadLetterFor: string[];
  /** Ready for delivery now. */
  pending: number;
  /** Waiting for their delay (a send's delaySeconds, or a retry's). */
  delayed: number;
  /** In a batch the handler is processing. */
  inFlight: number;
  /** Of those waiting (pending or delayed), the ones that failed before and wait for another attempt. */
  retrying: number;
  sent: number;
  acked: number;
  retried: number;
  deadLettered: number;
  dropped: number;
}

/** A batch delivered to a consumer and what became of its messages. */
export interface QueueBatchRecord {
  seq: number;
  queue: string;
  startedAt: number;
  endedAt: number | null;
  size: number;
  acked: number;
  retried: number;
  deadLettered: number;
  dropped: number;
  /** null while in flight; "interrupted" when Terrarium stopped under it (its messages are delivered again). */
  outcome: "ok" | "exception" | "interrupted" | null;
  error: string | null;
}

export type DeliverBatch = (
  queue: string,
  messages: DeliveredMessage[],
  metrics: BatchMetrics,
) => Promise<QueueOutcome>;

export interface BrokerLog {
  (level: "info" | "warn" | "error", message: string): void;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export class QueueBroker {
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #deliver: DeliverBatch;
  readonly #log: BrokerLog;
  #config: QueuesConfig;
  #consumers = new Map<string, QueueConsumer>();
  /** The batches in a handler now, per queue. */
  readonly #busy = new Map<string, Set<Promise<void>>>();
  #timer: { cancel(): void } | null = null;
  #timerAt = Infinity;
  #closed = false;
  #stopping = false;
  #started = false;
  readonly #s;

  constructor(deps: {
    dataDir: string;
    clock: Clock;
    config: QueuesConfig;
    deliver: DeliverBatch;
    log: BrokerLog;
  }) {
    this.#db = openDatabase(join(deps.dataDir, "queues.sqlite"), MIGRATIONS);
    this.#clock = deps.clock;
    this.#deliver = deps.deliver;
    this.#log = deps.log;
    this.#config = deps.config;
    this.#consumers = new Map(deps.config.consumers.map((c) => [c.queue, c]));
    const db = this.#db;
    this.#s = {
      insert: db.prepare<[string, string, number, string, Buffer, number]>(
        "INSERT INTO messages (queue, id, sent_at, content_type, body, visible_at) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      count: db.prepare<[string], unknown>("INSERT OR IGNORE INTO counters (queue) VALUES (?)"),
      bump: db.prepare<[number, number, number, number, number, string]>(
        "UPDATE counters SET sent = sent + ?, acked = acked + ?, retried = retried + ?, dead_lettered = dead_lettered + ?, dropped = dropped + ? WHERE queue = ?",
      ),
      backlog: db.prepare<[string, number], { n: number; bytes: number | null; oldest: number | null }>(
        "SELECT COUNT(*) AS n, SUM(length(body)) AS bytes, MIN(sent_at) AS oldest FROM messages WHERE queue = ? AND batch IS NULL AND visible_at <= ?",
      ),
      ready: db.prepare<[string, number, number], MessageRow>(
        "SELECT seq, queue, id, sent_at, content_type, body, failed FROM messages WHERE queue = ? AND batch IS NULL AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?",
      ),
      firstReady: db.prepare<[string, number], { at: number | null }>(
        "SELECT MIN(visible_at) AS at FROM messages WHERE queue = ? AND batch IS NULL AND visible_at <= ?",
      ),
      nextVisible: db.prepare<[string, number], { at: number | null }>(
        "SELECT MIN(visible_at) AS at FROM messages WHERE queue = ? AND batch IS NULL AND visible_at > ?",
      ),
      take: db.prepare<[number, number]>("UPDATE messages SET batch = ? WHERE seq = ?"),
      newBatch: db.prepare<[string, number, number]>(
        "INSERT INTO batches (queue, started_at, size) VALUES (?, ?, ?)",
      ),
      endBatch: db.prepare<[number, number, number, number, number, string, string | null, number]>(
        "UPDATE batches SET ended_at = ?, acked = ?, retried = ?, dead_lettered = ?, dropped = ?, outcome = ?, error = ? WHERE seq = ?",
      ),
      trimBatches: db.prepare<[string, string, number]>(
        "DELETE FROM batches WHERE queue = ? AND seq <= (SELECT seq FROM batches WHERE queue = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
      ),
      remove: db.prepare<[number]>("DELETE FROM messages WHERE seq = ?"),
      retry: db.prepare<[number, number]>(
        "UPDATE messages SET failed = failed + 1, visible_at = ?, batch = NULL WHERE seq = ?",
      ),
      deadLetter: db.prepare<[string, number, number]>(
        "UPDATE messages SET queue = ?, failed = 0, visible_at = ?, batch = NULL WHERE seq = ?",
      ),
      stats: db.prepare<
        [{ now: number }],
        { queue: string; pending: number; delayed: number; in_flight: number; retrying: number }
      >(
        `SELECT queue,
           SUM(batch IS NULL AND visible_at <= @now) AS pending,
           SUM(batch IS NULL AND visible_at > @now) AS delayed,
           SUM(batch IS NOT NULL) AS in_flight,
           SUM(batch IS NULL AND failed > 0) AS retrying
         FROM messages GROUP BY queue`,
      ),
      counters: db.prepare<
        [],
        {
          queue: string;
          sent: number;
          acked: number;
          retried: number;
          dead_lettered: number;
          dropped: number;
        }
      >("SELECT * FROM counters"),
      batches: db.prepare<[string, number], Record<string, unknown>>(
        "SELECT * FROM batches WHERE queue = ? ORDER BY seq DESC LIMIT ?",
      ),
    };
    // A batch in flight when Terrarium stopped: its messages are delivered again.
    db.transaction(() => {
      db.prepare("UPDATE messages SET batch = NULL WHERE batch IS NOT NULL").run();
      db.prepare("UPDATE batches SET outcome = 'interrupted' WHERE outcome IS NULL").run();
    })();
  }

  /** New consumers and producers apply at once (a config change); messages stay where they are. */
  setConfig(config: QueuesConfig): void {
    this.#config = config;
    this.#consumers = new Map(config.consumers.map((c) => [c.queue, c]));
    this.#wake();
  }

  start(): void {
    this.#started = true;
    this.#wake();
  }

  /** Persists messages sent to `queue`; resolves with the backlog as it was before them. */
  send(
    queue: string,
    messages: readonly OutgoingMessage[],
    /** Told each message's id (traces link a batch to the request that sent it). */
    onId?: (id: string) => void,
  ): { backlogCount: number; backlogBytes: number; oldestMessageTimestamp: number | null } {
    if (this.#closed) throw new Error(`Queue send failed: Terrarium is stopping`);
    const now = this.#clock.now();
    const before = this.#s.backlog.get(queue, now);
    this.#db.transaction(() => {
      for (const m of messages) {
        const id = randomBytes(16).toString("hex");
        onId?.(id);
        this.#s.insert.run(
          queue,
          id,
          now,
          m.contentType,
          Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength),
          now + m.delaySeconds * 1000,
        );
      }
      this.#s.count.run(queue);
      this.#s.bump.run(messages.length, 0, 0, 0, 0, queue);
    })();
    queueMicrotask(() => this.#wake());
    return {
      backlogCount: before?.n ?? 0,
      backlogBytes: before?.bytes ?? 0,
      oldestMessageTimestamp: before?.oldest ?? null,
    };
  }

  /** Starts a batch on every consumed queue that has one due, and sets the timer for the next. */
  #wake(): void {
    if (this.#closed || this.#stopping || !this.#started) return;
    const now = this.#clock.now();
    let next = Infinity;
    for (const c of this.#consumers.values()) {
      const limit = c.maxConcurrency ?? 1;
      let running = this.#busy.get(c.queue);
      // Each batch started takes its messages at once (#flush claims them before it awaits),
      // so the backlog read on the next turn is what is left for another batch.
      while ((running?.size ?? 0) < limit) {
        const backlog = this.#s.backlog.get(c.queue, now);
        const ready = backlog?.n ?? 0;
        if (ready === 0) break;
        const since = this.#s.firstReady.get(c.queue, now)?.at ?? now;
        const due = ready >= c.maxBatchSize ? now : since + c.maxBatchTimeoutMs;
        if (due > now) {
          next = Math.min(next, due);
          break;
        }
        if (!running) this.#busy.set(c.queue, (running = new Set()));
        const set = running;
        const batch: Promise<void> = this.#flush(c).finally(() => {
          set.delete(batch);
          if (set.size === 0 && this.#busy.get(c.queue) === set) this.#busy.delete(c.queue);
          this.#wake();
        });
        set.add(batch);
      }
      if ((running?.size ?? 0) >= limit) continue;
      const visible = this.#s.nextVisible.get(c.queue, now)?.at;
      if (visible !== null && visible !== undefined) next = Math.min(next, visible);
    }
    if (next === this.#timerAt) return;
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAt = next;
    if (next !== Infinity) {
      this.#timer = this.#clock.setTimeout(
        () => {
          this.#timer = null;
          this.#timerAt = Infinity;
          this.#wake();
        },
        Math.max(0, next - now),
      );
    }
  }

  async #flush(c: QueueConsumer): Promise<void> {
    const now = this.#clock.now();
    const rows = this.#s.ready.all(c.queue, now, c.maxBatchSize);
    if (rows.length === 0) return;
    const batch = this.#db.transaction(() => {
      const seq = Number(this.#s.newBatch.run(c.queue, now, rows.length).lastInsertRowid);
      for (const r of rows) this.#s.take.run(seq, r.seq);
      this.#s.trimBatches.run(c.queue, c.queue, KEPT_BATCHES);
      return seq;
    })();
    const after = this.#s.backlog.get(c.queue, now);
    const messages: DeliveredMessage[] = rows.map((r) => ({
      id: r.id,
      timestamp: r.sent_at,
      contentType: r.content_type as QueueContentType,
      body: new Uint8Array(r.body),
      attempts: r.failed + 1,
    }));
    let outcome: QueueOutcome;
    const started = Date.now();
    try {
      outcome = await this.#deliver(c.queue, messages, {
        backlogCount: after?.n ?? 0,
        backlogBytes: after?.bytes ?? 0,
        oldestMessageTimestamp: after?.oldest ?? null,
      });
    } catch (e) {
      outcome = {
        outcome: "exception",
        error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        ackAll: false,
        retryAll: null,
        acks: [],
        retries: [],
      };
    }
    const took = Date.now() - started;
    // Stopped under the batch: its messages are delivered again when the queue opens.
    if (this.#closed) return;
    if (outcome.outcome === "exception") {
      this.#log("error", `queue() on "${c.queue}" threw: ${outcome.error ?? "unknown error"}`);
    }
    this.#settle(c, batch, rows, outcome, took);
  }

  /** Applies what the handler decided about each message of a batch (see the class comment). */
  #settle(c: QueueConsumer, batch: number, rows: MessageRow[], o: QueueOutcome, took: number): void {
    const now = this.#clock.now();
    const acks = new Set(o.acks);
    const retries = new Map(o.retries.map((r) => [r.id, r.delaySeconds]));
    const maxAttempts = c.maxRetries + 1;
    const attemptsWord = plural(maxAttempts, "failed attempt");
    const tally = { acked: 0, retried: 0, deadLettered: 0, dropped: 0 };
    const warnings: string[] = [];
    this.#db.transaction(() => {
      for (const r of rows) {
        let retry: { delaySeconds: number | null } | null;
        if (acks.has(r.id)) retry = null;
        else if (retries.has(r.id)) retry = { delaySeconds: retries.get(r.id) ?? null };
        else if (o.ackAll) retry = null;
        else if (o.retryAll) retry = { delaySeconds: o.retryAll.delaySeconds };
        else retry = o.outcome === "ok" ? null : { delaySeconds: null };
        if (!retry) {
          this.#s.remove.run(r.seq);
          tally.acked++;
          continue;
        }
        const failed = r.failed + 1;
        if (failed < maxAttempts) {
          const delay = retry.delaySeconds ?? o.retryAll?.delaySeconds ?? c.retryDelay;
          this.#s.retry.run(now + delay * 1000, r.seq);
          tally.retried++;
        } else if (c.deadLetterQueue) {
          this.#s.deadLetter.run(c.deadLetterQueue, now, r.seq);
          this.#s.count.run(c.deadLetterQueue);
          tally.deadLettered++;
          warnings.push(
            `Moving message "${r.id}" on queue "${c.queue}" to dead letter queue "${c.deadLetterQueue}" after ${attemptsWord}...`,
          );
        } else {
          this.#s.remove.run(r.seq);
          tally.dropped++;
          warnings.push(`Dropped message "${r.id}" on queue "${c.queue}" after ${attemptsWord}!`);
        }
      }
      this.#s.count.run(c.queue);
      this.#s.bump.run(0, tally.acked, tally.retried, tally.deadLettered, tally.dropped, c.queue);
      this.#s.endBatch.run(
        now,
        tally.acked,
        tally.retried,
        tally.deadLettered,
        tally.dropped,
        o.outcome,
        o.error,
        batch,
      );
    })();
    for (const w of warnings) this.#log("warn", w);
    this.#log("info", `QUEUE ${c.queue} ${tally.acked}/${rows.length} (${took}ms)`);
  }

  /** Every queue the project names or that holds messages, with its counts. */
  stats(): QueueStats[] {
    const now = this.#clock.now();
    const live = new Map(this.#s.stats.all({ now }).map((r) => [r.queue, r]));
    const counters = new Map(this.#s.counters.all().map((r) => [r.queue, r]));
    const names = new Set([...queueNames(this.#config), ...live.keys(), ...counters.keys()]);
    return [...names].sort().map((queue) => {
      const l = live.get(queue);
      const k = counters.get(queue);
      return {
        queue,
        producers: this.#config.producers
          .filter((p) => p.queue === queue)
          .map((p) => (p.worker === undefined ? p.binding : `${p.binding} (${p.worker})`)),
        consumer: this.#consumers.get(queue) ?? null,
        consumerWorker: this.#consumerWorker(queue),
        batchesInFlight: this.#busy.get(queue)?.size ?? 0,
        deadLetterFor: this.#config.consumers.filter((c) => c.deadLetterQueue === queue).map((c) => c.queue),
        pending: l?.pending ?? 0,
        delayed: l?.delayed ?? 0,
        inFlight: l?.in_flight ?? 0,
        retrying: l?.retrying ?? 0,
        sent: k?.sent ?? 0,
        acked: k?.acked ?? 0,
        retried: k?.retried ?? 0,
        deadLettered: k?.dead_lettered ?? 0,
        dropped: k?.dropped ?? 0,
      };
    });
  }

  #consumerWorker(queue: string): string | null {
    const c = this.#consumers.get(queue);
    if (!c) return null;
    return c.worker ?? this.#config.ownWorker ?? null;
  }

  /** The latest batches delivered from `queue`, newest first. */
  batches(queue: string, limit = 50): QueueBatchRecord[] {
    return this.#s.batches.all(queue, Math.max(1, Math.min(limit, KEPT_BATCHES))).map((r) => ({
      seq: r.seq as number,
      queue: r.queue as string,
      startedAt: r.started_at as number,
      endedAt: (r.ended_at as number | null) ?? null,
      size: r.size as number,
      acked: r.acked as number,
      retried: r.retried as number,
      deadLettered: r.dead_lettered as number,
      dropped: r.dropped as number,
      outcome: (r.outcome as QueueBatchRecord["outcome"]) ?? null,
      error: (r.error as string | null) ?? null,
    }));
  }

  /** Resolves when no batch is in flight. */
  async drained(): Promise<void> {
    while (this.#busy.size > 0) await Promise.allSettled([...this.#busy.values()].flatMap((s) => [...s]));
  }

  /** Starts no more batches (Terrarium is stopping); sends are still kept. */
  stop(): void {
    this.#stopping = true;
    this.#timer?.cancel();
    this.#timer = null;
  }

  /** Closes the file; a batch still in flight is delivered again at the next start. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
    this.#db.close();
  }
}
