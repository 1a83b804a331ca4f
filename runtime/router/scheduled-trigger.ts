import {
  LEGACY_SCHEDULED_PATH,
  SCHEDULED_HANDLER_PATH,
  SCHEDULED_MESSAGES,
  TEST_SCHEDULED_PATH,
  scheduledSpec,
  type ScheduledOutcome,
  type ScheduledSpec,
} from "../bindings/scheduled.ts";
import type { SerializedResponse } from "../host/protocol.ts";
import { triggerText } from "./trigger-answer.ts";

/**
 * `/cdn-cgi/handler/scheduled?cron=..&time=..` (any method) runs the entry
 * Worker's `scheduled()` handler, as under wrangler dev (Miniflare's
 * unsafeTriggerHandlers); Miniflare's older `/cdn-cgi/mf/scheduled` does
 * the same with a deprecation warning in the logs. Any other path under
 * `/cdn-cgi/handler/` is a 404 naming the two handlers, as Miniflare
 * answers. These paths are taken before static assets and routes. With
 * `terrarium serve --test-scheduled`, `/__scheduled?cron=..` runs it as
 * wrangler dev --test-scheduled does (its middleware's answer).
 */
export const HANDLER_PREFIX = "/cdn-cgi/handler/";

/**
 * Whether the router takes `pathname` as a trigger (the email path is
 * taken before this); `testScheduled` (serve --test-scheduled, as wrangler
 * dev's flag) adds `/__scheduled`.
 */
export function isTriggerPath(pathname: string, testScheduled: boolean): boolean {
  return (
    pathname === SCHEDULED_HANDLER_PATH ||
    pathname === LEGACY_SCHEDULED_PATH ||
    pathname.startsWith(HANDLER_PREFIX) ||
    (testScheduled && pathname === TEST_SCHEDULED_PATH)
  );
}

/** Answers a trigger path (isTriggerPath): runs scheduled() through `run`, or the 404. */
export async function scheduledTrigger(
  url: URL,
  now: number,
  run: (spec: ScheduledSpec, warning: string | null) => Promise<ScheduledOutcome>,
): Promise<SerializedResponse> {
  if (url.pathname === TEST_SCHEDULED_PATH) {
    // wrangler's middleware-scheduled: now, `cron` or "", "Ran scheduled event" unless the handler threw.
    const outcome = await run(
      { scheduledTime: now, cron: url.searchParams.get("cron") ?? "", middleware: true },
      null,
    );
    return outcome.status === 200
      ? triggerText(200, "Ran scheduled event")
      : triggerText(500, outcome.error ?? "Error: the scheduled() handler failed");
  }
  const legacy = url.pathname === LEGACY_SCHEDULED_PATH;
  if (url.pathname !== SCHEDULED_HANDLER_PATH && !legacy)
    return triggerText(
      404,
      `"${url.pathname}" is not a valid handler. Did you mean to use "${SCHEDULED_HANDLER_PATH}" or "/cdn-cgi/handler/email"?`,
    );
  const spec = scheduledSpec(url.searchParams, now);
  if (!spec) return triggerText(500, `TypeError: ${SCHEDULED_MESSAGES.invalidTime}`);
  const outcome = await run(spec, legacy ? SCHEDULED_MESSAGES.legacy : null);
  return triggerText(outcome.status, outcome.body);
}
