/**
 * What crosses between a worker's Workflows code (the `env.<binding>`
 * binding and the `step` of a running instance, runtime/bindings/workflows.ts)
 * and the orchestrator's Workflows engine (runtime/workflows/),
 * and the rules both sides share: durations, ids, step names and configs,
 * checked as workerd's local Workflows engine checks them (Miniflare's
 * workflows-shared; compared in test/fidelity/projects/workflows).
 */

/** An error as a step or an instance failed with it. */
export interface WorkflowErrorInfo {
  name: string;
  message: string;
}

export type WorkflowStatusName =
  | "queued"
  | "running"
  | "paused"
  | "errored"
  | "terminated"
  | "complete"
  | "waitingForPause"
  | "waiting"
  | "unknown";

/** `instance.status()`, in workerd's local shape. */
export interface WorkflowStatus {
  status: WorkflowStatusName;
  /** Local development only (as workerd's): the outputs of the steps done so far, in order. */
  __LOCAL_DEV_STEP_OUTPUTS: unknown[];
  output: unknown;
  error?: WorkflowErrorInfo;
}

export type WorkflowAction = "pause" | "resume" | "terminate" | "restart";

export interface Retries {
  limit: number;
  delay: number | string;
  backoff?: "constant" | "linear" | "exponential";
}

export interface StepConfig {
  retries: Retries;
  timeout: number | string;
}

/** Which run of an instance a step call comes from (a restart, pause or terminate ends a run). */
export interface RunRef {
  binding: string;
  id: string;
  run: number;
}

/** One call from a worker to the Workflows engine (GatewayApi.workflow). */
export type WorkflowCall =
  | { op: "create"; binding: string; instances: { id: string; params: unknown }[] }
  | { op: "exists"; binding: string; id: string }
  | { op: "status"; binding: string; id: string }
  | { op: "control"; binding: string; id: string; action: WorkflowAction }
  | { op: "event"; binding: string; id: string; type: string; payload: unknown }
  | { op: "do"; ref: RunRef; key: string; name: string; config: StepConfig }
  | {
      op: "attempt";
      ref: RunRef;
      key: string;
      outcome: { ok: true; value: unknown } | { ok: false; error: WorkflowErrorInfo; fatal: boolean };
    }
  | { op: "sleep"; ref: RunRef; key: string; name: string; until: number }
  | { op: "wait"; ref: RunRef; key: string; name: string; type: string; timeoutMs: number };

/**
 * The engine's answer to a step call. `abort`: this run was ended (a pause,
 * terminate or restart); the step throws and the run's result is ignored.
 */
export type StepReply =
  | { kind: "cached"; value: unknown }
  | { kind: "failed"; error: WorkflowErrorInfo }
  | { kind: "attempt"; attempt: number }
  | { kind: "retry" }
  | { kind: "ok" }
  | { kind: "event"; event: { payload: unknown; type: string; timestamp: Date } }
  | { kind: "abort"; reason: string };

/** What the orchestrator asks the entry worker to run: one run of one instance. */
export interface WorkflowRunSpec {
  ref: RunRef;
  className: string;
  event: { payload: unknown; timestamp: Date; instanceId: string };
}

export type WorkflowRunResult = { ok: true; output: unknown } | { ok: false; error: WorkflowErrorInfo };

export const ABORT_PREFIX = "Aborting engine:";

export const ABORT_REASONS = {
  pause: `${ABORT_PREFIX} User called pause`,
  restart: `${ABORT_PREFIX} User called restart`,
  terminate: `${ABORT_PREFIX} User called terminate`,
  shutdown: `${ABORT_PREFIX} Terrarium is stopping`,
} as const;

/** workerd's default step config. */
export const DEFAULT_STEP_CONFIG: StepConfig = {
  retries: { limit: 5, delay: 1000, backoff: "exponential" },
  timeout: "10 minutes",
};

/** workerd's waitForEvent timeout when none is given. */
export const DEFAULT_EVENT_TIMEOUT = "24 hours";

/** workerd's limit of steps in one instance. */
export const STEP_LIMIT = 10_000;

const UNITS: Record<string, number> = {
  year: 315576e5,
  month: 2592e6,
  week: 6048e5,
  day: 864e5,
  hour: 36e5,
  minute: 6e4,
  second: 1e3,
  m: 1,
};

/**
 * A duration in ms: a number, or "<n> <unit>[s]" (second, minute, hour,
 * day, week, month, year), parsed exactly as workerd's engine (itty-time)
 * parses it, unknown units counting as ms and nonsense giving NaN.
 */
export function durationMs(value: number | string): number {
  if (!isNaN(+value)) return +value;
  const text = String(value);
  const m = /^([^ ]+) +(\w\w*?)s?$/.exec(text);
  const amount = m ? m[1]! : text;
  const unit = m ? m[2]! : "";
  return +amount * (UNITS[unit] ?? 1);
}

/** A Workflow instance id: up to 100 of letters, digits, '-' and '_', not starting with '-'. */
export function isValidInstanceId(id: unknown): id is string {
  return typeof id === "string" && id.length <= 100 && /^[a-zA-Z0-9_][a-zA-Z0-9-_]*$/.test(id);
}

export function isValidStepName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name.length <= 256 && !/[\x00-\x1f]/.test(name);
}

const isNum = (v: unknown): v is number => typeof v === "number" && !Number.isNaN(v);
const isDuration = (v: unknown): v is number | string => (isNum(v) && v >= 0) || typeof v === "string";

/** workerd's check of a step.do config (its zod schema plus the duration checks). */
export function isValidStepConfig(c: unknown): boolean {
  if (typeof c !== "object" || c === null || Array.isArray(c)) return false;
  const o = c as Record<string, unknown>;
  if (Object.keys(o).some((k) => k !== "retries" && k !== "timeout")) return false;
  if (o.retries !== undefined) {
    const r = o.retries;
    if (typeof r !== "object" || r === null || Array.isArray(r)) return false;
    const rr = r as Record<string, unknown>;
    if (Object.keys(rr).some((k) => k !== "limit" && k !== "delay" && k !== "backoff")) return false;
    if (!isDuration(rr.delay) || !isNum(rr.limit) || rr.limit < 0) return false;
    if (rr.backoff !== undefined && !["constant", "linear", "exponential"].includes(rr.backoff as string))
      return false;
    if (Number.isNaN(durationMs(rr.delay))) return false;
  }
  if (o.timeout !== undefined) {
    if (!isDuration(o.timeout)) return false;
    const t = durationMs(o.timeout);
    if (t === 0 || Number.isNaN(t)) return false;
  }
  return true;
}

/** The wait before retry `attempt` + 1, after `attempt` failed attempts (workerd's calcRetryDuration). */
export function retryDelayMs(retries: Retries, attempt: number): number {
  const delay = durationMs(retries.delay);
  switch (retries.backoff) {
    case "exponential":
      return delay * Math.pow(2, attempt - 1);
    case "linear":
      return delay * attempt;
    default:
      return delay;
  }
}

const BUILTIN_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * The error user code sees for `info` after it crossed workerd's RPC: the
 * standard error types keep their type, any other name ends up in the
 * message of a plain Error ("WorkflowTimeoutError: Execution timed out").
 */
export function userError(info: WorkflowErrorInfo): Error {
  const Ctor = BUILTIN_ERRORS[info.name];
  if (Ctor) return new Ctor(info.message);
  return new Error(`${info.name}: ${info.message}`);
}

/** An error as workerd's engine records it (after it crossed RPC from user code). */
export function errorInfo(e: unknown): WorkflowErrorInfo {
  if (e instanceof Error) {
    if (BUILTIN_ERRORS[e.name]) return { name: e.name, message: e.message };
    return { name: "Error", message: `${e.name}: ${e.message}` };
  }
  return { name: "Error", message: String(e) };
}

export function isNonRetryable(e: WorkflowErrorInfo | Error): boolean {
  return e.name === "NonRetryableError" || e.message.startsWith("NonRetryableError");
}
