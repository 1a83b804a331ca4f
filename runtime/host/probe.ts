/**
 * What an object's worker can tell about why it is awake and what it holds
 * in memory, for "why is it awake?" and "hibernate now, then wake". Plain
 * data: it crosses the worker boundary and the control API.
 */
export interface ObjectProbe {
  /** ctx.waitUntil promises not settled yet (hibernation waits for them, up to 30 s). */
  waitUntil: number;
  /** A blockConcurrencyWhile callback holds the input gate. */
  blocking: boolean;
  /** A storage transaction is open on the object's database. */
  transaction: boolean;
  /** The instance's own fields (not ctx or env), each previewed as short text. */
  fields: Record<string, string>;
}

const PREVIEW_CHARS = 120;
const MAX_FIELDS = 100;

/** A short, stable text for a value: what a reader needs to see it changed or vanished. */
export function previewValue(v: unknown): string {
  const clip = (s: string): string => (s.length > PREVIEW_CHARS ? `${s.slice(0, PREVIEW_CHARS - 1)}…` : s);
  if (v === undefined) return "undefined";
  if (v === null || typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return clip(JSON.stringify(v));
  if (typeof v === "function") return `function ${v.name || "(anonymous)"}`;
  if (typeof v === "symbol") return v.toString();
  if (v instanceof Map) return clip(`Map(${v.size}) ${safeJson([...v.entries()])}`);
  if (v instanceof Set) return clip(`Set(${v.size}) ${safeJson([...v.values()])}`);
  if (Array.isArray(v)) return clip(`Array(${v.length}) ${safeJson(v)}`);
  const name = (v as object).constructor?.name;
  const json = safeJson(v);
  return clip(name && name !== "Object" ? `${name} ${json}` : json);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x)) ?? String(v);
  } catch {
    return "[not serializable]";
  }
}

/** The fields of a Durable Object instance a user wrote: own enumerable properties but ctx and env. */
export function instanceFields(instance: object): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const key of Object.keys(instance)) {
    if (key === "ctx" || key === "env") continue;
    if (++n > MAX_FIELDS) break;
    let value: unknown;
    try {
      value = (instance as Record<string, unknown>)[key];
    } catch (e) {
      value = `[getter threw: ${e instanceof Error ? e.message : String(e)}]`;
    }
    out[key] = previewValue(value);
  }
  return out;
}
