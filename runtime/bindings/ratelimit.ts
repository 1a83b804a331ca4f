/**
 * Rate limiting (wrangler's `ratelimits`, or an `unsafe.bindings` entry of
 * type "ratelimit"): `env.<binding>.limit({ key })` answers `{ success }`.
 * As in workerd's local simulation (Miniflare), each binding counts calls
 * per key in fixed windows of `period` seconds (10 or 60), in memory: the
 * counts are shared by every worker of the project (they live in the
 * orchestrator, `RateLimits`) and start over when Terrarium restarts. On
 * Cloudflare the counters are per location and eventually consistent.
 */

import { RATE_LIMIT_PERIODS, type RateLimitSpec } from "../config/ratelimits.ts";

export type { RateLimitSpec } from "../config/ratelimits.ts";

const OPTION_KEYS = ["key", "limit", "period"];

function validate(test: boolean, message: string): void {
  if (!test) throw new Error(message);
}

/** `env.<binding>` in a worker: checks the options as workerd does, counts in the orchestrator. */
export class RateLimitBinding {
  readonly #spec: RateLimitSpec;
  readonly #count: (binding: string, key: string, limit: number, period: number) => Promise<boolean>;

  constructor(
    spec: RateLimitSpec,
    count: (binding: string, key: string, limit: number, period: number) => Promise<boolean>,
  ) {
    this.#spec = spec;
    this.#count = count;
  }

  async limit(options: { key?: string; limit?: number; period?: number }): Promise<{ success: boolean }> {
    validate(typeof options == "object" && options !== null, "invalid rate limit options");
    const invalid = Object.keys(options ?? {}).filter((k) => !OPTION_KEYS.includes(k));
    validate(invalid.length == 0, `bad rate limit options: [${invalid.join(",")}]`);
    const { key = "", limit = this.#spec.limit, period = this.#spec.period } = options;
    validate(typeof key == "string", `invalid key: ${String(key)}`);
    validate(typeof limit == "number", `limit must be a number: ${String(limit)}`);
    validate(typeof period == "number", `period must be a number: ${String(period)}`);
    validate(RATE_LIMIT_PERIODS.includes(period), `unsupported period: ${period}`);
    return { success: await this.#count(this.#spec.binding, key, limit, period) };
  }
}

/** One limit() call as the Inspector lists it. */
export interface RateLimitCall {
  time: number;
  key: string;
  allowed: boolean;
  limit: number;
  period: number;
}

/** What the Inspector shows of one binding's counters. */
export interface RateLimitSnapshot {
  /** The current window (ms since the epoch); null when no call fell in it. */
  windowStart: number | null;
  windowEnd: number | null;
  /** Calls allowed in the current window, per key, most first. */
  counts: { key: string; count: number }[];
  /** The latest calls, newest first. */
  recent: RateLimitCall[];
  allowed: number;
  limited: number;
}

/** Calls kept per binding for the Inspector. */
const RECENT_CALLS = 200;

/** The project's counters, one fixed window per binding (the orchestrator's side). */
export class RateLimits {
  readonly #windows = new Map<string, { epoch: number; period: number; counts: Map<string, number> }>();
  readonly #recent = new Map<string, RateLimitCall[]>();
  readonly #totals = new Map<string, { allowed: number; limited: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Counts one call for `key`; false when the window already had `limit` of them. */
  count(binding: string, key: string, limit: number, period: number): boolean {
    const now = this.#now();
    const epoch = Math.floor(now / (period * 1000));
    let w = this.#windows.get(binding);
    if (!w || w.epoch !== epoch) {
      w = { epoch, period, counts: new Map() };
      this.#windows.set(binding, w);
    }
    const n = w.counts.get(key) ?? 0;
    const allowed = n < limit;
    if (allowed) w.counts.set(key, n + 1);
    this.#note(binding, { time: now, key, allowed, limit, period });
    return allowed;
  }

  #note(binding: string, call: RateLimitCall): void {
    let recent = this.#recent.get(binding);
    if (!recent) this.#recent.set(binding, (recent = []));
    recent.push(call);
    if (recent.length > RECENT_CALLS * 2) recent.splice(0, recent.length - RECENT_CALLS);
    const t = this.#totals.get(binding) ?? { allowed: 0, limited: 0 };
    if (call.allowed) t.allowed++;
    else t.limited++;
    this.#totals.set(binding, t);
  }

  /** A binding's current window (empty once it has passed), its latest calls and totals. */
  snapshot(binding: string): RateLimitSnapshot {
    const now = this.#now();
    const w = this.#windows.get(binding);
    const current = w && w.epoch === Math.floor(now / (w.period * 1000)) ? w : null;
    const totals = this.#totals.get(binding) ?? { allowed: 0, limited: 0 };
    return {
      windowStart: current ? current.epoch * current.period * 1000 : null,
      windowEnd: current ? (current.epoch + 1) * current.period * 1000 : null,
      counts: current
        ? [...current.counts].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count)
        : [],
      recent: (this.#recent.get(binding) ?? []).slice(-RECENT_CALLS).reverse(),
      ...totals,
    };
  }
}
