/**
 * Cron triggers: a Worker's `scheduled(controller, env, ctx)` handler, run
 * by a request to `/cdn-cgi/handler/scheduled?cron=..&time=..` as wrangler
 * dev runs it (Miniflare's `handleScheduled`). Neither wrangler dev nor
 * Terrarium runs crons on their schedule: the trigger is the only way in.
 *
 * Checked against workerd through Miniflare (fidelity project
 * `scheduled`): the controller has own `cron` and `scheduledTime` and a
 * `noRetry()` on its prototype (no `type`; `noRetry` called on anything
 * but a controller throws workerd's Illegal invocation); the run waits for
 * the `ctx.waitUntil` promises; the trigger answers 200 `ok`, or 500
 * `exception` when the handler (or a waitUntil promise) throws or rejects,
 * or the Worker has no scheduled handler.
 */

/** The trigger paths: wrangler dev's, and Miniflare's older one (deprecated, still served). */
export const SCHEDULED_HANDLER_PATH = "/cdn-cgi/handler/scheduled";
export const LEGACY_SCHEDULED_PATH = "/cdn-cgi/mf/scheduled";
/** wrangler dev --test-scheduled's path (its middleware, around the Worker's fetch). */
export const TEST_SCHEDULED_PATH = "/__scheduled";

/** What Miniflare logs for the older path, and what workerd logs when the Worker has no handler. */
export const SCHEDULED_MESSAGES = {
  legacy: `Triggering scheduled handlers via a request to \`${LEGACY_SCHEDULED_PATH}\` is deprecated, and will be removed in a future version of Miniflare. Instead, send a request to \`${SCHEDULED_HANDLER_PATH}\``,
  noHandler:
    "Received a ScheduledEvent but we lack a handler for ScheduledEvents (a.k.a. Cron Triggers). Did you remember to export a scheduled() function?",
  invalidTime: "The value cannot be converted because it is not a valid Date.",
} as const;

/** The event a trigger asks for: `time` (ms since the epoch) read as Miniflare reads it. */
export interface ScheduledSpec {
  readonly scheduledTime: number;
  readonly cron: string;
  /**
   * Run as wrangler dev --test-scheduled's middleware runs it (/__scheduled):
   * a Worker without a handler is not an error, and the run does not wait
   * for waitUntil promises (they belong to the request's ctx there).
   */
  readonly middleware?: boolean;
}

/**
 * The event of a trigger's query: `cron` (default ""), `time` read with
 * parseInt as Miniflare does (absent or empty: now; "1.5e12" is 1), or
 * null when `time` is not a number (Miniflare answers 500 then).
 */
export function scheduledSpec(params: URLSearchParams, now: number): ScheduledSpec | null {
  const time = params.get("time");
  const scheduledTime = time ? parseInt(time, 10) : now;
  if (Number.isNaN(scheduledTime)) return null;
  return { scheduledTime, cron: params.get("cron") ?? "" };
}

/** The outcome of a run, as the trigger answers it. */
export interface ScheduledOutcome {
  status: 200 | 500;
  body: "ok" | "exception";
  /** What the handler threw (its stack), for the middleware's 500. */
  error?: string;
}

const noRetryOf = new WeakMap<object, () => void>();

/** workerd's ScheduledController: `cron`, `scheduledTime` (a number), `noRetry()`. */
export class ScheduledController {
  readonly cron: string;
  readonly scheduledTime: number;

  constructor(spec: ScheduledSpec, noRetry: () => void) {
    this.cron = spec.cron;
    this.scheduledTime = spec.scheduledTime;
    noRetryOf.set(this, noRetry);
  }

  /** Asks Cloudflare not to retry a failed run; a trigger run is never retried, so it only records the wish. */
  noRetry(): void {
    const fn = noRetryOf.get(this as object);
    if (!fn)
      throw new TypeError(
        "Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details.",
      );
    fn();
  }

  get [Symbol.toStringTag](): string {
    return "ScheduledController";
  }
}

/**
 * The controller wrangler dev --test-scheduled's middleware makes for
 * `/__scheduled` (its `__Facade_ScheduledController__`): own
 * `scheduledTime` then `cron`, no toStringTag, and a plainer Illegal
 * invocation.
 */
export class FacadeScheduledController {
  readonly #noRetry: () => void;

  constructor(
    readonly scheduledTime: number,
    readonly cron: string,
    noRetry: () => void,
  ) {
    this.#noRetry = noRetry;
  }

  noRetry(): void {
    if (!(this instanceof FacadeScheduledController)) throw new TypeError("Illegal invocation");
    this.#noRetry();
  }
}

/**
 * Runs the handler `handlerFor` gives for this run's `ctx` (null: the
 * Worker has none) on the event, then waits for what it handed to
 * `ctx.waitUntil`; any throw or rejection is logged and makes the outcome
 * "exception", as under workerd.
 */
export async function runScheduled(
  spec: ScheduledSpec,
  handlerFor: (
    ctx: ScheduledContext,
  ) => ((controller: ScheduledController | FacadeScheduledController) => unknown) | null,
  log: (level: "warn" | "error", message: string, error?: unknown) => void,
): Promise<ScheduledOutcome> {
  const waiting: Promise<unknown>[] = [];
  const ctx: ScheduledContext = {
    waitUntil: (p) => {
      waiting.push(Promise.resolve(p));
    },
    passThroughOnException: () => {},
  };
  let failed = false;
  let error: string | undefined;
  try {
    const handler = handlerFor(ctx);
    if (!handler) {
      if (spec.middleware) return { status: 200, body: "ok" };
      log("error", SCHEDULED_MESSAGES.noHandler);
      return { status: 500, body: "exception" };
    }
    await handler(
      spec.middleware
        ? new FacadeScheduledController(spec.scheduledTime, spec.cron, () => {})
        : new ScheduledController(spec, () => {}),
    );
  } catch (e) {
    failed = true;
    error = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
    log("error", "Uncaught exception in scheduled() handler:", e);
  }
  if (spec.middleware) {
    for (const p of waiting) p.catch((e: unknown) => log("error", "waitUntil promise rejected:", e));
    return failed
      ? { status: 500, body: "exception", ...(error === undefined ? {} : { error }) }
      : { status: 200, body: "ok" };
  }
  // Promises handed to waitUntil while others settle are waited for too.
  for (let i = 0; i < waiting.length; i++) {
    try {
      await waiting[i];
    } catch (e) {
      failed = true;
      log("error", "waitUntil promise rejected:", e);
    }
  }
  return failed ? { status: 500, body: "exception" } : { status: 200, body: "ok" };
}

/** The `ctx` a scheduled() handler gets: its own waitUntil list, for this run. */
export interface ScheduledContext {
  waitUntil(p: Promise<unknown>): void;
  passThroughOnException(): void;
}
