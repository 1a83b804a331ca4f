/** Time as the orchestration layer sees it; tests pass a FakeClock to drive timeouts. */
export interface Clock {
  now(): number;
  setInterval(fn: () => void, ms: number): { cancel(): void };
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

interface Timer {
  at: number;
  every: number | null;
  fn: () => void;
  live: boolean;
}

/** A clock that moves only when told to: `advance(ms)` runs what falls due, in order. */
export class FakeClock implements Clock {
  #now: number;
  #timers: Timer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setInterval(fn: () => void, ms: number): { cancel(): void } {
    return this.#add(fn, ms, ms);
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    return this.#add(fn, ms, null);
  }

  #add(fn: () => void, ms: number, every: number | null): { cancel(): void } {
    const t: Timer = { at: this.#now + ms, every, fn, live: true };
    this.#timers.push(t);
    return { cancel: () => (t.live = false) };
  }

  /** Moves time forward, firing due timers; awaits between them so async work can settle. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => t.live);
      const next = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.#now = Math.max(this.#now, next.at);
      if (next.every !== null) next.at += Math.max(1, next.every);
      else next.live = false;
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.#now = target;
  }
}
