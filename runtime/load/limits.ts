/**
 * Cloudflare's Durable Object limits, watched while a simulation runs: what
 * Terrarium can observe of each is flagged once per object, with what was
 * passed and what to do about it. Terrarium itself enforces none of the
 * soft ones; the point is to see them coming before deploying.
 */
import type { LogEntry } from "../shared/events.ts";
import type { RequestEvent } from "../shared/events.ts";
import { count } from "./format.ts";

export const CLOUDFLARE_LIMITS = {
  /** Soft limit: one object serves about this many requests per second. */
  requestsPerSecond: 1_000,
  cpuMsPerRequest: 30_000,
  memoryBytes: 128 * 1024 * 1024,
  storageBytes: 10 * 1024 ** 3,
  keyValueBytes: 2 * 1024 * 1024,
  /** WebSockets one object may hold through the hibernation API. */
  hibernatableSockets: 32_768,
} as const;

export type LimitKind = "requests" | "cpu" | "memory" | "storage" | "value-size" | "websockets";

export interface LimitFlag {
  kind: LimitKind;
  objectId: string | null;
  className: string | null;
  name: string | null;
  /** What was seen, for people: "1,850 requests/s". */
  observed: string;
  /** The worst value seen, in the limit's unit (requests/s, ms, bytes), when it is a number. */
  peak: number | null;
  limit: string;
  advice: string;
  /** Ms since the start of the run when it was first seen. */
  at: number;
  /** How many windows or events passed it. */
  count: number;
}

const ADVICE: Record<LimitKind, { limit: string; advice: string }> = {
  requests: {
    limit: "about 1,000 requests/s per object (soft limit)",
    advice:
      "one object is one thread: spread the load by sharding the class on a request key (a sharding policy in terrarium.json), batch writes, or answer reads from a cache in front of the object",
  },
  cpu: {
    limit: "30 s of CPU per request",
    advice:
      "move long work out of the request (an alarm, or chunks across requests), and out of blockConcurrencyWhile, which holds every other request back",
  },
  memory: {
    limit: "128 MB of memory per object",
    advice:
      "keep less in memory: read rows from storage when needed instead of caching whole tables, and stream large bodies",
  },
  storage: {
    limit: "10 GB of storage per object",
    advice: "split the data over more objects (one per user, tenant or shard), or move large blobs to R2",
  },
  "value-size": {
    limit: "2 MB per key and value (and per SQL row)",
    advice: "store large values in R2 and keep a reference, or split them over several keys",
  },
  websockets: {
    limit: "32,768 hibernatable WebSockets per object",
    advice:
      "spread the connections over more objects (one per room, channel or shard of users) instead of one object every client connects to",
  },
};

function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  return `${(n / 1024 ** 2).toFixed(1)} MB`;
}

interface ObjectRef {
  objectId: string | null;
  className: string | null;
  name: string | null;
}

export class LimitWatcher {
  readonly #flags = new Map<string, LimitFlag>();
  readonly #reported = new Set<string>();
  readonly #limits: typeof CLOUDFLARE_LIMITS;

  constructor(limits: Partial<typeof CLOUDFLARE_LIMITS> = {}) {
    this.#limits = { ...CLOUDFLARE_LIMITS, ...limits };
  }

  #flag(kind: LimitKind, who: ObjectRef, at: number, observed: string, peak: number | null): void {
    const key = `${kind} ${who.objectId ?? ""}`;
    const prev = this.#flags.get(key);
    if (prev) {
      prev.count++;
      if (peak !== null && (prev.peak === null || peak > prev.peak)) {
        prev.peak = peak;
        prev.observed = observed;
      }
      return;
    }
    this.#flags.set(key, { kind, ...who, observed, peak, ...ADVICE[kind], at, count: 1 });
  }

  /** One object's requests in one window of `windowMs`. */
  requestRate(who: ObjectRef, requests: number, windowMs: number, at: number): void {
    const rps = (requests / windowMs) * 1000;
    if (rps > this.#limits.requestsPerSecond)
      this.#flag("requests", who, at, `${count(rps)} requests/s`, rps);
  }

  /** Wall time is all an outside observer has; a request over the CPU limit takes at least as long. */
  request(e: RequestEvent, who: ObjectRef, at: number): void {
    if (e.durationMs > this.#limits.cpuMsPerRequest) {
      this.#flag("cpu", who, at, `a request took ${count(e.durationMs)} ms (wall time)`, e.durationMs);
    }
    if (e.error) this.#message(e.error, who, at);
  }

  /** Terrarium's own log lines say when a worker was ended for CPU or memory. */
  log(l: LogEntry, who: ObjectRef, at: number): void {
    if (l.level === "error") this.#message(l.message, who, at);
  }

  #message(text: string, who: ObjectRef, at: number): void {
    if (/CPU time limit/i.test(text)) this.#flag("cpu", who, at, text, null);
    else if (/memory limit|out of memory/i.test(text)) this.#flag("memory", who, at, text, null);
    else if (/cannot be larger than|string or blob too big/i.test(text))
      this.#flag("value-size", who, at, text, null);
  }

  storage(who: ObjectRef, storageBytes: number, at: number): void {
    if (storageBytes > this.#limits.storageBytes)
      this.#flag("storage", who, at, `${bytes(storageBytes)} stored`, storageBytes);
  }

  /** The hibernatable sockets one object holds now. */
  sockets(who: ObjectRef, held: number, at: number): void {
    if (held > this.#limits.hibernatableSockets)
      this.#flag("websockets", who, at, `${count(held)} hibernatable WebSockets held`, held);
  }

  /** Flags raised since the last call (copies), for a live view that adds them as they come. */
  fresh(): LimitFlag[] {
    const out: LimitFlag[] = [];
    for (const [key, f] of this.#flags) {
      if (this.#reported.has(key)) continue;
      this.#reported.add(key);
      out.push({ ...f });
    }
    return out;
  }

  flags(): LimitFlag[] {
    return [...this.#flags.values()].sort((a, b) => a.at - b.at);
  }
}
