/**
 * The small languages of a load profile, as written in terrarium.json and on
 * the command line: durations ("10s"), key distributions ("zipf:1000:1.2"),
 * thresholds ("p99<200", "errors<1%") and request templates
 * ("/c/{key}/incr"). Each parser throws an Error whose message says what
 * was expected; the config schema turns it into a file/field error.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** "250ms", "10s", "1.5m", "1h", or a bare number of milliseconds. */
export function parseDuration(v: string | number): number {
  if (typeof v === "number") {
    if (!Number.isFinite(v) || v < 0) throw new Error(`a duration must be 0 or more, got ${v}`);
    return v;
  }
  const m = DURATION.exec(v.trim());
  if (!m) throw new Error(`"${v}" is not a duration (like 500ms, 10s, 2m)`);
  return Number(m[1]) * UNIT_MS[(m[2] ?? "ms") as keyof typeof UNIT_MS];
}

/** A think time: "100ms", or a uniform range "50ms..150ms". */
export function parseRange(v: string | number): { min: number; max: number } {
  if (typeof v === "string" && v.includes("..")) {
    const [a = "", b = ""] = v.split("..");
    const min = parseDuration(a);
    const max = parseDuration(b);
    if (max < min) throw new Error(`"${v}": the range ends before it starts`);
    return { min, max };
  }
  const d = parseDuration(v);
  return { min: d, max: d };
}

export type KeySpec =
  { kind: "uniform"; k: number } | { kind: "zipf"; k: number; s: number } | { kind: "seq" };

/**
 * `uniform:K` and `zipf:K[:s]` draw from the integers 0..K-1 (zipf: 0 is
 * the hottest, s defaults to 1); `seq` gives a new integer to every draw.
 */
export function parseKeySpec(v: string): KeySpec {
  const parts = v.trim().split(":");
  const [kind, ...args] = parts;
  const count = (x: string | undefined): number => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1) throw new Error(`"${v}": K must be a whole number of 1 or more`);
    return n;
  };
  if (kind === "seq" && args.length === 0) return { kind: "seq" };
  if (kind === "uniform" && args.length === 1) return { kind: "uniform", k: count(args[0]) };
  if (kind === "zipf" && (args.length === 1 || args.length === 2)) {
    const s = args[1] === undefined ? 1 : Number(args[1]);
    if (!Number.isFinite(s) || s <= 0 || s > 10) throw new Error(`"${v}": the exponent s must be in (0, 10]`);
    return { kind: "zipf", k: count(args[0]), s };
  }
  throw new Error(`"${v}" is not a key distribution (uniform:K, zipf:K[:s] or seq)`);
}

export type ThresholdMetric =
  "p50" | "p90" | "p95" | "p99" | "p99.9" | "min" | "mean" | "max" | "errors" | "rps";

export interface Threshold {
  /** As written, for the report. */
  source: string;
  metric: ThresholdMetric;
  op: "<" | "<=" | ">" | ">=";
  /** Latency in ms; errors as a fraction when `percent`, else a count; rps in requests/s. */
  value: number;
  percent: boolean;
}

const THRESHOLD =
  /^(p50|p90|p95|p99|p99\.9|min|mean|max|errors|rps)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?$/;

/** `p99<200` (ms), `p99.9<1s`, `mean<=20ms`, `errors<1%`, `errors<10` (a count), `rps>450`. */
export function parseThreshold(v: string): Threshold {
  const m = THRESHOLD.exec(v.trim());
  if (!m)
    throw new Error(
      `"${v}" is not a threshold (like p99<200, p99.9<1s, mean<20ms, errors<1%, errors<10, rps>400)`,
    );
  const metric = m[1] as ThresholdMetric;
  const op = m[2] as Threshold["op"];
  const unit = m[4];
  let value = Number(m[3]);
  const latency = metric !== "errors" && metric !== "rps";
  if (unit === "%" && metric !== "errors") throw new Error(`"${v}": only errors take a percentage`);
  if ((unit === "ms" || unit === "s") && !latency) throw new Error(`"${v}": ${metric} takes no time unit`);
  if (unit === "s") value *= 1000;
  if (unit === "%") value /= 100;
  return { source: v.trim(), metric, op, value, percent: unit === "%" };
}

export function thresholdHolds(t: Threshold, actual: number): boolean {
  switch (t.op) {
    case "<":
      return actual < t.value;
    case "<=":
      return actual <= t.value;
    case ">":
      return actual > t.value;
    case ">=":
      return actual >= t.value;
  }
}

/**
 * Names a template can use besides the profile's variables: `key` (from the
 * request's key distribution), `seq` (the request's number in the run),
 * `vu` (the virtual client, 0 in the open model), `rand` (0..2^31-1),
 * `uuid`, and `now` (epoch ms).
 */
export const BUILTIN_VARIABLES = ["key", "seq", "vu", "rand", "uuid", "now"] as const;

/** A template split once into literal text and `{name}` slots. */
export interface Template {
  /** Literal pieces; slot i sits between parts[i] and parts[i + 1]. */
  parts: string[];
  slots: string[];
}

const SLOT = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * `{name}` is a slot where name is an identifier; every other brace is
 * literal, so a JSON body such as `{"by": {n}}` needs no escaping.
 */
export function compileTemplate(text: string): Template {
  const parts: string[] = [];
  const slots: string[] = [];
  let last = 0;
  for (const m of text.matchAll(SLOT)) {
    parts.push(text.slice(last, m.index));
    slots.push(m[1]!);
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return { parts, slots };
}

export function renderTemplate(t: Template, values: Readonly<Record<string, string>>): string {
  if (t.slots.length === 0) return t.parts[0]!;
  let out = t.parts[0]!;
  for (let i = 0; i < t.slots.length; i++) out += (values[t.slots[i]!] ?? "") + t.parts[i + 1]!;
  return out;
}
