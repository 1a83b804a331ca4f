/**
 * Workers Analytics Engine (`analytics_engine_datasets`):
 * `env.<binding>.writeDataPoint({ blobs, doubles, indexes })`. Nothing is
 * sent anywhere: like wrangler dev, the call returns at once; unlike it,
 * Terrarium keeps the last data points (in the orchestrator's memory) so
 * the control API can list what the code wrote.
 */

export interface AnalyticsSpec {
  binding: string;
  dataset: string;
}

export interface DataPoint {
  time: number;
  binding: string;
  dataset: string;
  blobs: (string | null)[];
  doubles: number[];
  indexes: (string | null)[];
}

const text = (v: unknown): string | null =>
  v === null || v === undefined
    ? null
    : typeof v === "string"
      ? v
      : v instanceof ArrayBuffer || ArrayBuffer.isView(v)
        ? `[${(v as ArrayBuffer).byteLength} bytes]`
        : String(v);

/** `env.<binding>` in a worker. */
export class AnalyticsEngineDataset {
  readonly #spec: AnalyticsSpec;
  readonly #record: (p: DataPoint) => void;

  constructor(spec: AnalyticsSpec, record: (p: DataPoint) => void) {
    this.#spec = spec;
    this.#record = record;
  }

  writeDataPoint(event?: { blobs?: unknown[]; doubles?: unknown[]; indexes?: unknown[] }): void {
    this.#record({
      time: Date.now(),
      binding: this.#spec.binding,
      dataset: this.#spec.dataset,
      blobs: Array.isArray(event?.blobs) ? event.blobs.map(text) : [],
      doubles: Array.isArray(event?.doubles) ? event.doubles.map(Number) : [],
      indexes: Array.isArray(event?.indexes) ? event.indexes.map(text) : [],
    });
  }
}

/** The project's datasets from its wrangler config (`dataset` defaults to the binding, as wrangler's). */
export function analyticsDatasets(raw: Record<string, unknown>): AnalyticsSpec[] {
  const list = raw["analytics_engine_datasets"];
  if (!Array.isArray(list)) return [];
  return list.flatMap((d: { binding?: unknown; dataset?: unknown }) =>
    typeof d?.binding === "string"
      ? [{ binding: d.binding, dataset: typeof d.dataset === "string" ? d.dataset : d.binding }]
      : [],
  );
}

/** The last data points written, newest last (the orchestrator's side). */
export class DataPointLog {
  readonly #max: number;
  #points: DataPoint[] = [];

  constructor(max = 2000) {
    this.#max = max;
  }

  add(p: DataPoint): void {
    this.#points.push(p);
    if (this.#points.length > this.#max) this.#points = this.#points.slice(-this.#max);
  }

  /** Newest first. */
  list(q: { binding?: string | undefined; limit?: number | undefined } = {}): DataPoint[] {
    const out: DataPoint[] = [];
    for (let i = this.#points.length - 1; i >= 0 && out.length < (q.limit ?? 200); i--) {
      const p = this.#points[i]!;
      if (q.binding === undefined || p.binding === q.binding) out.push(p);
    }
    return out;
  }
}
