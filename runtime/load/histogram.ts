/**
 * A log-linear latency histogram (the HdrHistogram layout, minimal): values
 * are whole microseconds; below 64 µs each value has its own bucket, above
 * that every power of two is split into 32 equal buckets, so any recorded
 * value is known to within 1/32 (about 3 %). Memory is fixed (a few KiB)
 * however many samples are recorded, and histograms merge by adding counts.
 */

const SUB_BITS = 6; // 64 exact buckets, then 32 per power of two
const SUB_COUNT = 1 << SUB_BITS;
const HALF = SUB_COUNT >> 1;
const MAX_VALUE = 2 ** 40; // about 12.7 days in µs; larger values are clamped
const BUCKETS = (40 - SUB_BITS + 2) * HALF + HALF;

function indexOf(v: number): number {
  if (v < SUB_COUNT) return v;
  const msb = Math.floor(Math.log2(v));
  const shift = msb - SUB_BITS + 1;
  let sub = Math.floor(v / 2 ** shift);
  // Math.log2 can round up just below a power of two.
  if (sub >= SUB_COUNT) return indexOf(v - 1);
  if (sub < HALF) sub = HALF;
  return shift * HALF + sub;
}

/** The [low, high] range of values (µs) that land in bucket `i`. */
function rangeOf(i: number): [number, number] {
  if (i < SUB_COUNT) return [i, i];
  const shift = Math.floor(i / HALF) - 1;
  const sub = i - shift * HALF;
  const low = sub * 2 ** shift;
  return [low, low + 2 ** shift - 1];
}

export interface HistogramJson {
  counts: [number, number][];
  count: number;
  min: number;
  max: number;
  sum: number;
}

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #min = Infinity;
  #max = 0;
  #sum = 0;

  /** Records one value in microseconds (rounded, at least 0). */
  record(micros: number): void {
    const v = Math.min(MAX_VALUE, Math.max(0, Math.round(micros)));
    this.#counts[indexOf(v)]! += 1;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }

  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  get max(): number {
    return this.#max;
  }

  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /**
   * The value (µs) at percentile `p` (0-100): the midpoint of the bucket
   * holding the sample of that rank, clamped to the exact min and max.
   */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        const [low, high] = rangeOf(i);
        return Math.min(this.#max, Math.max(this.#min, (low + high) / 2));
      }
    }
    return this.#max;
  }

  /** Forgets every sample (a per-second window reuses one histogram). */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#min = Infinity;
    this.#max = 0;
    this.#sum = 0;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  toJSON(): HistogramJson {
    const counts: [number, number][] = [];
    this.#counts.forEach((c, i) => {
      if (c > 0) counts.push([rangeOf(i)[0], c]);
    });
    return { counts, count: this.#count, min: this.min, max: this.#max, sum: this.#sum };
  }

  static fromJSON(j: HistogramJson): Histogram {
    const h = new Histogram();
    for (const [low, c] of j.counts) h.#counts[indexOf(low)]! += c;
    h.#count = j.count;
    h.#min = j.count === 0 ? Infinity : j.min;
    h.#max = j.max;
    h.#sum = j.sum;
    return h;
  }
}
