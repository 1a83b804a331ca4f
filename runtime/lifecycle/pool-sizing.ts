import type { Clock } from "../shared/clock.ts";

/**
 * How many pre-started workers the pool keeps (runtime/lifecycle/pool.ts),
 * from the rate at which objects have needed one lately.
 *
 * A pooled worker makes a cold start cost an SQLite open and a constructor
 * instead of a thread start (tens of milliseconds of CPU). The configured
 * pool size (`poolSize`) is the floor, kept up at all times; above it the
 * pool grows to cover `HORIZON_S` of the recent arrival rate (at most
 * `MAX_TARGET` workers), and that growth is started only while no object
 * has needed a worker for `QUIET_MS`: starting threads takes the cores the
 * cold starts under way need, so they are started in the pauses between
 * bursts, not during one.
 */

/** Seconds of the recent arrival rate the pool covers above its floor. */
export const HORIZON_S = 1;
/** The most pre-started workers kept for a high arrival rate (each costs its RSS while it waits). */
export const MAX_TARGET = 32;
/** How long arrivals must pause before the pool grows above its floor. */
export const QUIET_MS = 50;
/** The arrival rate's time constant: it follows changes over a few seconds. */
const TAU_MS = 2_000;

export class PoolSizer {
  readonly #clock: Clock;
  /** Arrivals per second, as of `#at` (exponentially decayed). */
  #rate = 0;
  #at = 0;
  #last = -Infinity;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** An object needed a worker now. */
  arrived(): void {
    const now = this.#clock.now();
    this.#rate = this.#decayed(now) + 1000 / TAU_MS;
    this.#at = now;
    this.#last = now;
  }

  /** Recent arrivals per second. */
  perSecond(): number {
    return this.#decayed(this.#clock.now());
  }

  /** Workers to keep pooled for the recent rate: at least `floor`, at most MAX_TARGET (or `floor` if higher). */
  target(floor: number): number {
    const want = Math.min(MAX_TARGET, Math.floor(this.perSecond() * HORIZON_S));
    return Math.max(floor, want);
  }

  /** Milliseconds until arrivals will have paused for QUIET_MS (0: they have). */
  quietIn(): number {
    return Math.max(0, this.#last + QUIET_MS - this.#clock.now());
  }

  #decayed(now: number): number {
    if (this.#rate === 0) return 0;
    return this.#rate * Math.exp(-(now - this.#at) / TAU_MS);
  }
}
