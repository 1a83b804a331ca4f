import { basename } from "node:path";
import { ProjectError } from "./errors.ts";
import type { WranglerProject } from "./wrangler.ts";

/**
 * The project's Queues (wrangler's `queues.producers` / `queues.consumers`),
 * resolved with wrangler dev's defaults (Miniflare's broker: batches of 5,
 * a 1 s batch timeout, 2 retries). NOTE: Cloudflare's own defaults are
 * 10 messages, 5 s and 3 retries; a project that relies on them deployed
 * should set them.
 */

export const DEFAULT_MAX_BATCH_SIZE = 5;
export const DEFAULT_MAX_BATCH_TIMEOUT_S = 1;
export const DEFAULT_MAX_RETRIES = 2;

/** `env.<binding>` sends to `queue`. */
export interface QueueProducer {
  readonly binding: string;
  /** The Worker the binding is in, when the project runs several (`-c`); absent: the project's own. */
  readonly worker?: string;
  readonly queue: string;
  /** Seconds every message waits unless the send says otherwise (`delivery_delay`). */
  readonly deliveryDelay: number;
}

/** This Worker's `queue()` handler takes the queue's messages in batches. */
export interface QueueConsumer {
  readonly queue: string;
  /**
   * The Worker whose `queue()` handler consumes, when the project runs
   * several (`-c`); absent: the project's own Worker.
   */
  readonly worker?: string;
  readonly maxBatchSize: number;
  readonly maxBatchTimeoutMs: number;
  readonly maxRetries: number;
  /** Seconds a retried message waits unless retry() says otherwise (`retry_delay`). */
  readonly retryDelay: number;
  readonly deadLetterQueue: string | null;
  /**
   * At most this many batches of the queue in the handler at once
   * (`max_concurrency`); null: one at a time, as wrangler dev delivers them.
   */
  readonly maxConcurrency: number | null;
}

export interface QueuesConfig {
  readonly producers: readonly QueueProducer[];
  readonly consumers: readonly QueueConsumer[];
  /** The project's own Worker's name (its producers and consumers carry no `worker`), where known. */
  readonly ownWorker?: string;
}

/** Every queue the project names: produced to, consumed, or a dead-letter queue, sorted. */
export function queueNames(q: QueuesConfig): string[] {
  const names = new Set<string>();
  for (const p of q.producers) names.add(p.queue);
  for (const c of q.consumers) {
    names.add(c.queue);
    if (c.deadLetterQueue) names.add(c.deadLetterQueue);
  }
  return [...names].sort();
}

/** Resolves and checks the `queues` block; throws ProjectError naming the field. */
export function queuesConfig(w: WranglerProject): QueuesConfig {
  const file = basename(w.configPath);
  const raw = w.raw.queues;
  const taken = new Set<string>([...Object.keys(w.vars), ...w.durableObjects.map((b) => b.binding)]);
  for (const list of [w.raw.d1_databases, w.raw.r2_buckets, w.raw.kv_namespaces])
    for (const b of list ?? []) taken.add(b.binding);
  const producers = (raw?.producers ?? []).map((p, i): QueueProducer => {
    if (taken.has(p.binding)) {
      throw new ProjectError(`binding ${p.binding} is declared twice`, {
        file,
        field: `queues.producers[${i}].binding`,
      });
    }
    taken.add(p.binding);
    return { binding: p.binding, queue: p.queue, deliveryDelay: p.delivery_delay ?? 0 };
  });
  const consumed = new Set<string>();
  const consumers = (raw?.consumers ?? []).map((c, i): QueueConsumer => {
    if (consumed.has(c.queue)) {
      throw new ProjectError(`queue ${c.queue} has two consumers; a queue has one`, {
        file,
        field: `queues.consumers[${i}].queue`,
      });
    }
    consumed.add(c.queue);
    if (c.dead_letter_queue === c.queue) {
      throw new ProjectError("a queue cannot be its own dead-letter queue", {
        file,
        field: `queues.consumers[${i}].dead_letter_queue`,
      });
    }
    return {
      queue: c.queue,
      maxBatchSize: c.max_batch_size ?? DEFAULT_MAX_BATCH_SIZE,
      maxBatchTimeoutMs: Math.round((c.max_batch_timeout ?? DEFAULT_MAX_BATCH_TIMEOUT_S) * 1000),
      maxRetries: c.max_retries ?? DEFAULT_MAX_RETRIES,
      retryDelay: c.retry_delay ?? 0,
      deadLetterQueue: c.dead_letter_queue ?? null,
      maxConcurrency: c.max_concurrency ?? null,
    };
  });
  return { producers, consumers };
}

/**
 * The queues of every Worker of a project (`wrangler dev -c a -c b`), as the
 * one broker sees them: each producer and consumer tagged with its Worker
 * (none for the project's own), so a message sent in one Worker is
 * consumed by the Worker whose config has the consumer. A queue has one
 * consumer across the Workers; two are refused with Miniflare's message.
 */
export function projectQueues(
  own: QueuesConfig,
  others: readonly { readonly wrangler: WranglerProject; readonly queues: QueuesConfig }[],
  ownName: string,
): QueuesConfig {
  const consumers: QueueConsumer[] = [...own.consumers];
  const producers: QueueProducer[] = [...own.producers];
  const by = new Map(own.consumers.map((c) => [c.queue, ownName]));
  for (const o of others) {
    const worker = o.wrangler.name;
    producers.push(...o.queues.producers.map((p) => ({ ...p, worker })));
    for (const [i, c] of o.queues.consumers.entries()) {
      const first = by.get(c.queue);
      if (first !== undefined) {
        throw new ProjectError(
          `Multiple consumers defined for queue "${c.queue}": "${first}" and "${worker}"`,
          {
            file: basename(o.wrangler.configPath),
            field: `queues.consumers[${i}].queue`,
          },
        );
      }
      by.set(c.queue, worker);
      consumers.push({ ...c, worker });
    }
  }
  return { producers, consumers, ownWorker: ownName };
}
