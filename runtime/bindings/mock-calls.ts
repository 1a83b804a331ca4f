import type { MockCallEvent } from "../shared/events.ts";

/** A mock call as the control API lists it: numbered in the order main heard of it. */
export interface MockCallRecord extends MockCallEvent {
  seq: number;
}

/**
 * The last `capacity` calls the project's mock endpoints answered, in
 * memory only: a simulation's third-party traffic is for watching live, not
 * for keeping. A load run can make thousands of calls a second, so the ring
 * is a fixed array and recording is O(1).
 */
export class MockCallLog {
  readonly #ring: (MockCallRecord | undefined)[];
  #next = 0;

  constructor(readonly capacity = 2_000) {
    this.#ring = new Array<MockCallRecord | undefined>(capacity);
  }

  record(call: MockCallEvent): MockCallRecord {
    const rec: MockCallRecord = { ...call, seq: this.#next + 1 };
    this.#ring[this.#next % this.capacity] = rec;
    this.#next++;
    return rec;
  }

  /** Newest first: at most `limit` calls, only those numbered below `before` when given. */
  list(opts: { limit?: number; before?: number } = {}): MockCallRecord[] {
    const limit = Math.min(opts.limit ?? 200, this.capacity);
    const out: MockCallRecord[] = [];
    const oldest = Math.max(0, this.#next - this.capacity);
    let i = opts.before !== undefined ? Math.min(this.#next, opts.before - 1) : this.#next;
    while (--i >= oldest && out.length < limit) {
      const rec = this.#ring[i % this.capacity];
      if (rec) out.push(rec);
    }
    return out;
  }

  /** Calls heard since the engine started, including those the ring has let go. */
  get total(): number {
    return this.#next;
  }
}
