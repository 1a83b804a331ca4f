import { deserialize, serialize } from "node:v8";

/**
 * Cloudflare Queues inside a worker thread: the producer binding
 * (`env.<binding>.send/sendBatch`) and the batch a consumer's `queue()`
 * handler gets. Messages are checked and serialized here, as workerd does
 * before they leave the isolate, and handed to the orchestrator's broker
 * (runtime/queues/broker.ts), which persists and delivers them. Limits,
 * validation and messages are workerd's under Miniflare (wrangler dev),
 * checked in test/fidelity/projects/queues.
 */

/** A message body may be 128,000 bytes once serialized; a sendBatch 100 messages. */
export const MAX_MESSAGE_BYTES = 128_000;
export const MAX_BATCH_MESSAGES = 100;
/**
 * NOTE: Miniflare refuses a batch over 288,000 bytes while its message says
 * 256000 (it leaves room for per-message overhead); Terrarium does the same.
 */
export const MAX_BATCH_BYTES = 288_000;
const MAX_DELAY_SECONDS = 86_400;

export type QueueContentType = "json" | "text" | "bytes" | "v8";
const CONTENT_TYPES: readonly string[] = ["json", "text", "bytes", "v8"];

/** A message on its way from a producer to the broker. */
export interface OutgoingMessage {
  contentType: QueueContentType;
  body: Uint8Array;
  /** Seconds before it may be delivered (the message's, else the send's, else the producer's delivery_delay). */
  delaySeconds: number;
}

/** What `send`/`sendBatch` resolve to (Cloudflare's QueueSendResponse). */
export interface QueueSendResponse {
  metadata: { metrics: { backlogCount: number; backlogBytes: number; oldestMessageTimestamp?: Date } };
}

/** The broker's side of a producer binding (the worker's gateway). */
export type QueueSink = (
  queue: string,
  messages: OutgoingMessage[],
) => Promise<{ backlogCount: number; backlogBytes: number; oldestMessageTimestamp: number | null }>;

function typeName(v: unknown): string {
  return v === null ? "null" : typeof v;
}

function encode(body: unknown, contentType: QueueContentType, op: string): Uint8Array {
  switch (contentType) {
    case "text":
      if (typeof body !== "string") {
        throw new TypeError(
          `Content Type "text" requires a value of type string, but received: ${typeName(body)}`,
        );
      }
      return new TextEncoder().encode(body);
    case "bytes":
      if (!ArrayBuffer.isView(body)) {
        throw new TypeError(
          `Content Type "bytes" requires a value of type ArrayBufferView, but received: ${typeName(body)}`,
        );
      }
      return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    case "json": {
      const text = JSON.stringify(body) as string | undefined;
      if (text === undefined) {
        throw new Error(`Queue ${op} failed: the message body cannot be serialized as JSON`);
      }
      return new TextEncoder().encode(text);
    }
    case "v8":
      return new Uint8Array(serialize(body));
  }
}

function contentTypeOf(options: unknown, fallback: QueueContentType): QueueContentType {
  const ct = (options as { contentType?: unknown } | undefined)?.contentType;
  if (ct === undefined) return fallback;
  if (typeof ct !== "string" || !CONTENT_TYPES.includes(ct)) {
    throw new TypeError(`Unsupported queue message content type: ${String(ct)}`);
  }
  return ct as QueueContentType;
}

/** `delaySeconds` as workerd takes it: a whole number of seconds (truncated), from 0 to 86,400. */
function delayOf(options: unknown, op: string): number | null {
  const d = (options as { delaySeconds?: unknown } | undefined)?.delaySeconds;
  if (d === undefined) return null;
  const n = Math.trunc(Number(d));
  if (!Number.isFinite(n) || n < 0 || n > MAX_DELAY_SECONDS) {
    throw new Error(
      `Queue ${op} failed: message delay ${String(d)} is invalid; it must be a whole number of seconds from 0 to ${MAX_DELAY_SECONDS}`,
    );
  }
  return n;
}

/** `env.<binding>` for a `queues.producers` entry. */
export class WorkerQueue {
  readonly #queue: string;
  readonly #sink: QueueSink;
  readonly #defaultType: QueueContentType;
  readonly #deliveryDelay: number;

  /**
   * `defaultType`: "json" from compatibility date 2024-03-18 (queues_json_messages), else "v8";
   * `deliveryDelay`: the producer's delivery_delay, in seconds.
   */
  constructor(queue: string, sink: QueueSink, defaultType: QueueContentType, deliveryDelay: number) {
    this.#queue = queue;
    this.#sink = sink;
    this.#defaultType = defaultType;
    this.#deliveryDelay = deliveryDelay;
  }

  async send(...args: [body?: unknown, options?: unknown]): Promise<QueueSendResponse> {
    if (args.length === 0) {
      throw new TypeError("Failed to execute 'send' on 'WorkerQueue': parameter 1 is not of type 'JsValue'.");
    }
    const [body, options] = args;
    if (body === undefined) throw new TypeError("Message body cannot be undefined");
    const contentType = contentTypeOf(options, this.#defaultType);
    const delaySeconds = delayOf(options, "send") ?? this.#deliveryDelay;
    const bytes = encode(body, contentType, "send");
    if (bytes.byteLength > MAX_MESSAGE_BYTES) {
      throw new Error(
        `Queue send failed: message length of ${bytes.byteLength} bytes exceeds limit of ${MAX_MESSAGE_BYTES}`,
      );
    }
    return this.#sent(await this.#sink(this.#queue, [{ contentType, body: bytes, delaySeconds }]));
  }

  async sendBatch(messages?: unknown, options?: unknown): Promise<QueueSendResponse> {
    if (
      messages === null ||
      typeof messages !== "object" ||
      typeof (messages as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function"
    ) {
      throw new TypeError(
        "Failed to execute 'sendBatch' on 'WorkerQueue': parameter 1 is not of type 'Sequence'.",
      );
    }
    const list = [...(messages as Iterable<unknown>)];
    if (list.length === 0) throw new TypeError("sendBatch() requires at least one message");
    const delaySeconds = delayOf(options, "sendBatch") ?? this.#deliveryDelay;
    const out: OutgoingMessage[] = list.map((m) => {
      if (m === null || m === undefined) {
        throw new TypeError(
          "Cannot initialize N7workerd3api11WorkerQueue18MessageSendRequestE with required members from an undefined or null value.",
        );
      }
      const { body } = m as { body?: unknown };
      if (body === undefined) throw new TypeError("Message body cannot be undefined");
      const contentType = contentTypeOf(m, this.#defaultType);
      return {
        contentType,
        body: encode(body, contentType, "sendBatch"),
        delaySeconds: delayOf(m, "sendBatch") ?? delaySeconds,
      };
    });
    if (out.length > MAX_BATCH_MESSAGES) {
      throw new Error(
        `Queue sendBatch failed: batch message count of ${out.length} exceeds limit of ${MAX_BATCH_MESSAGES}`,
      );
    }
    const largest = Math.max(...out.map((m) => m.body.byteLength));
    if (largest > MAX_MESSAGE_BYTES) {
      throw new Error(
        `Queue sendBatch failed: message in batch has length ${largest} bytes which exceeds single message size limit of ${MAX_MESSAGE_BYTES}`,
      );
    }
    const total = out.reduce((n, m) => n + m.body.byteLength, 0);
    if (total > MAX_BATCH_BYTES) {
      throw new Error(`Queue sendBatch failed: batch size of ${total} bytes exceeds limit of 256000`);
    }
    return this.#sent(await this.#sink(this.#queue, out));
  }

  #sent(m: Awaited<ReturnType<QueueSink>>): QueueSendResponse {
    const metrics: QueueSendResponse["metadata"]["metrics"] = {
      backlogCount: m.backlogCount,
      backlogBytes: m.backlogBytes,
    };
    if (m.oldestMessageTimestamp !== null)
      metrics.oldestMessageTimestamp = new Date(m.oldestMessageTimestamp);
    return { metadata: { metrics } };
  }
}

// ---- the consumer's side ----

/** A message as the broker hands it to the consumer's worker. */
export interface DeliveredMessage {
  id: string;
  /** When it was first sent, ms since the epoch. */
  timestamp: number;
  contentType: QueueContentType;
  body: Uint8Array;
  /** This delivery's attempt, from 1. */
  attempts: number;
}

export interface BatchMetrics {
  backlogCount: number;
  backlogBytes: number;
  oldestMessageTimestamp: number | null;
}

/**
 * What the handler decided, as workerd reports it to the queue: explicit
 * acks and retries per message (calls that came too late, such as ack()
 * after retry(), are left out, with workerd's warning), ackAll/retryAll,
 * and whether the handler threw.
 */
export interface QueueOutcome {
  outcome: "ok" | "exception";
  error: string | null;
  ackAll: boolean;
  /** retryAll() was called (with its delay, or null). */
  retryAll: { delaySeconds: number | null } | null;
  acks: string[];
  retries: { id: string; delaySeconds: number | null }[];
}

function decodeBody(m: DeliveredMessage): unknown {
  switch (m.contentType) {
    case "text":
      return new TextDecoder().decode(m.body);
    case "json":
      return JSON.parse(new TextDecoder().decode(m.body)) as unknown;
    case "bytes":
      return m.body.buffer.slice(m.body.byteOffset, m.body.byteOffset + m.body.byteLength);
    case "v8":
      return deserialize(m.body) as unknown;
  }
}

function retryDelay(options: unknown): number | null {
  const d = (options as { delaySeconds?: unknown } | undefined)?.delaySeconds;
  if (d === undefined) return null;
  const n = Math.trunc(Number(d));
  return Number.isFinite(n) ? Math.max(0, n) : null;
}

/** The state of one delivery: what the handler said about each message and the batch. */
class Decisions {
  readonly acks = new Set<string>();
  readonly retries = new Map<string, number | null>();
  ackAll = false;
  retryAll: { delaySeconds: number | null } | null = null;
}

const DECISIONS = Symbol("decisions");

/** A message in a consumer's batch (workerd's QueueMessage). */
export class Message {
  readonly attempts: number;
  readonly body: unknown;
  readonly timestamp: Date;
  readonly id: string;
  declare readonly [DECISIONS]: Decisions;

  constructor(m: DeliveredMessage, decisions: Decisions) {
    this.attempts = m.attempts;
    this.body = decodeBody(m);
    this.timestamp = new Date(m.timestamp);
    this.id = m.id;
    Object.defineProperty(this, DECISIONS, { value: decisions, enumerable: false });
  }

  ack(): void {
    const d = this[DECISIONS];
    if (d.retries.has(this.id)) {
      console.warn(
        `Received a call to ack() on message ${this.id} after retry() was already called. Calling ack() on a message after calling retry() has no effect.`,
      );
      return;
    }
    if (d.retryAll) {
      console.warn(
        `Received a call to ack() on message ${this.id} after retryAll() was already called. Calling ack() on a message after calling retryAll() has no effect.`,
      );
      return;
    }
    d.acks.add(this.id);
  }

  retry(options?: { delaySeconds?: number }): void {
    const d = this[DECISIONS];
    if (d.acks.has(this.id)) {
      console.warn(
        `Received a call to retry() on message ${this.id} after ack() was already called. Calling retry() on a message after calling ack() has no effect.`,
      );
      return;
    }
    if (d.ackAll) {
      console.warn(
        `Received a call to retry() on message ${this.id} after ackAll() was already called. Calling retry() on a message after calling ackAll() has no effect.`,
      );
      return;
    }
    d.retries.set(this.id, retryDelay(options));
  }
}

/** The batch a consumer's `queue(batch, env, ctx)` gets (workerd's QueueEvent batch). */
export class MessageBatch {
  readonly metadata: {
    metrics: { backlogCount: number; backlogBytes: number; oldestMessageTimestamp?: Date };
  };
  readonly queue: string;
  readonly messages: readonly Message[];
  declare readonly [DECISIONS]: Decisions;

  constructor(queue: string, messages: DeliveredMessage[], metrics: BatchMetrics) {
    const decisions = new Decisions();
    const m: MessageBatch["metadata"]["metrics"] = {
      backlogCount: metrics.backlogCount,
      backlogBytes: metrics.backlogBytes,
    };
    if (metrics.oldestMessageTimestamp !== null)
      m.oldestMessageTimestamp = new Date(metrics.oldestMessageTimestamp);
    this.metadata = { metrics: m };
    this.queue = queue;
    this.messages = Object.freeze(messages.map((msg) => new Message(msg, decisions)));
    Object.defineProperty(this, DECISIONS, { value: decisions, enumerable: false });
  }

  ackAll(): void {
    const d = this[DECISIONS];
    if (d.retryAll) {
      console.warn(
        "Received a call to ackAll() after retryAll() was already called. Calling ackAll() after calling retryAll() has no effect.",
      );
      return;
    }
    d.ackAll = true;
  }

  retryAll(options?: { delaySeconds?: number }): void {
    const d = this[DECISIONS];
    if (d.ackAll) {
      console.warn(
        "Received a call to retryAll() after ackAll() was already called. Calling retryAll() after calling ackAll() has no effect.",
      );
      return;
    }
    d.retryAll = { delaySeconds: retryDelay(options) };
  }
}

/** The handler's decisions on `batch`, given how it ended. */
export function outcomeOf(batch: MessageBatch, error: unknown): QueueOutcome {
  const d = batch[DECISIONS];
  return {
    outcome: error === undefined ? "ok" : "exception",
    error:
      error === undefined ? null : error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    ackAll: d.ackAll,
    retryAll: d.retryAll,
    acks: [...d.acks],
    retries: [...d.retries].map(([id, delaySeconds]) => ({ id, delaySeconds })),
  };
}
