import type { Random } from "./keys.ts";

/** A corner of the level curve: at `t` ms from the start the level is `level`. */
export interface LevelPoint {
  t: number;
  level: number;
}

export interface LevelShape {
  /** The level at t = 0. */
  start: number;
  /** Each ramps linearly from the previous level to `target` over `durationMs`. */
  stages: { durationMs: number; target: number }[];
  /** Holds the level at `target` over [atMs, atMs + durationMs), then returns to the curve. */
  spike?: { atMs: number; durationMs: number; target: number } | undefined;
}

/**
 * The level of a run over time (open model: requests per second; closed
 * model: virtual clients), as a piecewise-linear curve. Two points at the
 * same time make a step (a spike's edges).
 */
export function levelCurve(shape: LevelShape): LevelPoint[] {
  const base: LevelPoint[] = [{ t: 0, level: shape.start }];
  let t = 0;
  for (const s of shape.stages) {
    t += s.durationMs;
    base.push({ t, level: s.target });
  }
  const spike = shape.spike;
  const end = t;
  if (!spike || spike.durationMs <= 0 || spike.atMs >= end) return base;
  const from = spike.atMs;
  const to = Math.min(end, spike.atMs + spike.durationMs);
  return [
    ...base.filter((p) => p.t < from),
    { t: from, level: levelAt(base, from) },
    { t: from, level: spike.target },
    { t: to, level: spike.target },
    { t: to, level: levelAt(base, to) },
    ...base.filter((p) => p.t > to),
  ];
}

export function curveDuration(points: readonly LevelPoint[]): number {
  return points[points.length - 1]?.t ?? 0;
}

/** The level at `t`; at a step, the level after it. */
export function levelAt(points: readonly LevelPoint[], t: number): number {
  let level = points[0]?.level ?? 0;
  for (let i = 0; i < points.length - 1; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    if (t < a.t) break;
    if (t >= b.t) {
      level = b.level;
      continue;
    }
    return a.level + ((b.level - a.level) * (t - a.t)) / (b.t - a.t);
  }
  return level;
}

/**
 * When each request of an open model is due. With a rate r(t) (requests/s)
 * the expected number of arrivals by t is A(t), the integral of r; request
 * k is due when A(t) reaches k + 1/2 (evenly spaced), or at the points of a
 * Poisson process in A. A is quadratic on each linear piece of the curve, so
 * each due time is solved exactly, in constant time.
 */
export class Arrivals {
  readonly #points: readonly LevelPoint[];
  readonly #poisson: boolean;
  readonly #random: Random;
  #segment = 0;
  /** A at the start of the current segment. */
  #segmentArea = 0;
  /** The value of A at which the next request is due. */
  #target: number;

  constructor(points: readonly LevelPoint[], mode: "uniform" | "poisson", random: Random) {
    this.#points = points;
    this.#poisson = mode === "poisson";
    this.#random = random;
    this.#target = this.#poisson ? this.#exp() : 0.5;
  }

  #exp(): number {
    return -Math.log(1 - this.#random());
  }

  /** The next due time in ms from the start, or null when the run is over. */
  next(): number | null {
    const target = this.#target;
    while (this.#segment < this.#points.length - 1) {
      const a = this.#points[this.#segment]!;
      const b = this.#points[this.#segment + 1]!;
      const dt = (b.t - a.t) / 1000;
      const area = ((a.level + b.level) / 2) * dt;
      if (dt > 0 && this.#segmentArea + area > target) {
        const need = target - this.#segmentArea;
        const r0 = a.level;
        const slope = (b.level - a.level) / dt;
        // Solves r0*x + slope*x^2/2 = need in the form that stays stable as slope -> 0.
        const x = need <= 0 ? 0 : (2 * need) / (r0 + Math.sqrt(Math.max(0, r0 * r0 + 2 * slope * need)));
        this.#target += this.#poisson ? this.#exp() : 1;
        return a.t + Math.min(x * 1000, b.t - a.t);
      }
      this.#segmentArea += area;
      this.#segment++;
    }
    return null;
  }
}

/** The part of a clock the schedulers use: time in ms and one-shot timers. */
export interface TimerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/** At most this many requests are started in one turn, so I/O gets a turn when the generator lags. */
const MAX_BATCH = 500;

/**
 * Fires each request of an open model when it is due, whatever happened to
 * the ones before (no waiting on responses: the arrival rate is the
 * profile's, not the server's). `fire` gets the due time so that latency is
 * measured from it, not from when the timer happened to run: a stalled
 * server or a late timer shows up as latency instead of hiding.
 */
export class OpenScheduler {
  readonly #arrivals: Arrivals;
  readonly #clock: TimerClock;
  readonly #fire: (dueAt: number) => void;
  readonly #done: () => void;
  #start = 0;
  #next: number | null = null;
  #timer: { cancel(): void } | null = null;
  #stopped = false;
  /** The largest delay between a due time and the moment its request was started, in ms. */
  maxLagMs = 0;
  fired = 0;

  constructor(arrivals: Arrivals, clock: TimerClock, fire: (dueAt: number) => void, done: () => void) {
    this.#arrivals = arrivals;
    this.#clock = clock;
    this.#fire = fire;
    this.#done = done;
  }

  get startedAt(): number {
    return this.#start;
  }

  start(): void {
    this.#start = this.#clock.now();
    this.#next = this.#arrivals.next();
    this.#tick();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    this.#done();
  }

  #tick(): void {
    this.#timer = null;
    if (this.#stopped) return;
    const elapsed = this.#clock.now() - this.#start;
    let batch = 0;
    while (this.#next !== null && this.#next <= elapsed && batch < MAX_BATCH) {
      const lag = elapsed - this.#next;
      if (lag > this.maxLagMs) this.maxLagMs = lag;
      this.fired++;
      batch++;
      this.#fire(this.#start + this.#next);
      if (this.#stopped) return;
      this.#next = this.#arrivals.next();
    }
    if (this.#next === null) {
      this.stop();
      return;
    }
    const wait = batch === MAX_BATCH ? 0 : Math.max(0, this.#next - elapsed);
    this.#timer = this.#clock.setTimeout(() => this.#tick(), wait);
  }
}
