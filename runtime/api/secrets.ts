import type { Project } from "../config/project.ts";
import type { ControlApi, LiveEvent } from "./contract.ts";

/**
 * Secrets (`.dev.vars`, `.dev.vars.<env>`, `.env` files) never leave the
 * engine in clear: every answer of the control API and every live event
 * (logs, problems, request history, workflow steps, Inspector values...)
 * has each secret value replaced by MASK, and so have the log lines the
 * CLI prints. The code still gets the real values in `env`, and requests
 * get the real responses; only what a person reads is masked.
 *
 * Values shorter than MIN_SECRET_LENGTH are left alone: masking every "1"
 * or "on" in every answer would hide more than it protects.
 */

export const MASK = "••••••";
export const MIN_SECRET_LENGTH = 4;

/**
 * The control methods whose answers are the project's own files, shown to
 * the user who edits them: the editor masks secrets files itself until the
 * user asks to reveal them, and a source file is not rewritten with masks.
 */
const UNMASKED: ReadonlySet<string> = new Set(["readFile", "listFiles", "editorTypes"]);

/**
 * The control methods that write or send what a person typed, often copied
 * from an answer this API masked. An argument holding MASK would put the mask
 * where the secret was (a KV value, a row, a saved request, a file) or send it
 * instead of the secret, so such a call is refused, naming why.
 */
const REFUSE_MASKED: ReadonlySet<string> = new Set([
  "kvPut",
  "writeSql",
  "writeFile",
  "sendRequest",
  "objectRequest",
  "saveRequest",
  "workflowCreate",
  "workflowEvent",
]);

/** The error for a write that holds MASK. */
export class MaskedSecretError extends Error {
  constructor(method: string) {
    super(
      `${method} refused: it holds ${MASK}, a secret as the Inspector shows it masked; writing it would replace ` +
        "the secret with the mask. Type the value in full (the editor shows .dev.vars in clear after Reveal).",
    );
    this.name = "MaskedSecretError";
  }
}

/** Whether a string anywhere in `value` (keys too) holds MASK. */
function holdsMask(value: unknown): boolean {
  if (typeof value === "string") return value.includes(MASK);
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some(holdsMask);
  if (!isPlain(value)) return false;
  return Object.entries(value).some(([k, v]) => k.includes(MASK) || holdsMask(v));
}

/** The secret values of every Worker of the project, longest first (so a value inside another is masked whole). */
export function secretValues(project: Pick<Project, "devVars" | "workers">): string[] {
  const out = new Set<string>();
  for (const values of [project.devVars.values, ...project.workers.map((w) => w.devVars.values)])
    for (const v of Object.values(values)) if (v.length >= MIN_SECRET_LENGTH) out.add(v);
  return [...out].sort((a, b) => b.length - a.length);
}

/** `text` with every secret value replaced by MASK. */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * `value` with every secret masked in its strings (keys too), through arrays
 * and plain objects; what holds no secret is returned as it was (same
 * object), so an answer without secrets costs a walk and no copy.
 */
export function maskDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const hit = (text: string): boolean => {
    for (const s of secrets) if (text.includes(s)) return true;
    return false;
  };
  // A first pass allocates nothing: most answers hold no secret, and big ones (50,000 objects) are polled.
  const holds = (v: unknown): boolean => {
    if (typeof v === "string") return hit(v);
    if (v === null || typeof v !== "object") return false;
    if (Array.isArray(v)) {
      for (const x of v) if (holds(x)) return true;
      return false;
    }
    if (!isPlain(v)) return false;
    for (const k in v) if (hit(k) || holds((v as Record<string, unknown>)[k])) return true;
    return false;
  };
  const walk = (v: unknown): unknown => {
    if (!holds(v)) return v;
    if (typeof v === "string") return maskText(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[maskText(k, secrets)] = walk(x);
    return out;
  };
  return walk(value) as T;
}

/** The control API with every answer and live event masked (see above); `secrets` is read at each call (a reload may change them). */
export function maskedApi(api: ControlApi, secrets: () => readonly string[]): ControlApi {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(api) as [string, unknown][]) {
    if (typeof fn !== "function") {
      out[name] = fn;
      continue;
    }
    const call = fn as (...args: unknown[]) => unknown;
    if (name === "subscribe") {
      out[name] = (listener: (batch: LiveEvent[]) => void) =>
        call((batch: LiveEvent[]) => listener(maskDeep(batch, secrets())));
    } else if (UNMASKED.has(name)) {
      out[name] = call;
    } else {
      const guard = REFUSE_MASKED.has(name);
      out[name] = async (...args: unknown[]) => {
        if (guard && holdsMask(args)) throw new MaskedSecretError(name);
        return maskDeep(await call(...args), secrets());
      };
    }
  }
  return out as unknown as ControlApi;
}
