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

/** The project's counters, one fixed window per binding (the orchestrator's side). */
export class RateLimits {
  readonly #windows = new Map<string, { epoch: number; counts: Map<string, number> }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Counts one call for `key`; false when the window already had `limit` of them. */
  count(binding: string, key: string, limit: number, period: number): boolean {
    const epoch = Math.floor(this.#now() / (period * 1000));
    let w = this.#windows.get(binding);
    if (!w || w.epoch !== epoch) {
      w = { epoch, counts: new Map() };
      this.#windows.set(binding, w);
    }
    const n = w.counts.get(key) ?? 0;
    if (n >= limit) return false;
    w.counts.set(key, n + 1);
    return true;
  }
}
