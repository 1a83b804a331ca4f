import { basename } from "node:path";
import { ProjectError } from "./errors.ts";
import type { WranglerProject } from "./wrangler.ts";

/** One rate limiter binding as the config declares it (runtime/bindings/ratelimit.ts runs it). */
export interface RateLimitSpec {
  binding: string;
  namespaceId: string;
  limit: number;
  period: number;
}

/** The windows workerd accepts, in seconds. */
export const RATE_LIMIT_PERIODS: readonly number[] = [10, 60];

interface RawRateLimit {
  name?: unknown;
  namespace_id?: unknown;
  simple?: { limit?: unknown; period?: unknown };
  type?: unknown;
}

/**
 * The project's rate limiters: wrangler's `ratelimits` entries and the
 * older `unsafe.bindings` entries of type "ratelimit", each checked (a
 * binding name, a namespace id, `simple.limit` and `simple.period` of 10
 * or 60 seconds).
 */
export function rateLimitBindings(w: WranglerProject): RateLimitSpec[] {
  const file = basename(w.configPath);
  const raw = w.raw as Record<string, unknown>;
  const entries: [string, RawRateLimit][] = [];
  if (Array.isArray(raw.ratelimits))
    raw.ratelimits.forEach((r: RawRateLimit, i) => entries.push([`ratelimits[${i}]`, r]));
  const unsafe = raw.unsafe as { bindings?: unknown } | undefined;
  if (Array.isArray(unsafe?.bindings))
    unsafe.bindings.forEach((r: RawRateLimit, i) => {
      if (r?.type === "ratelimit") entries.push([`unsafe.bindings[${i}]`, r]);
    });
  return entries.map(([field, r]) => {
    if (typeof r?.name !== "string" || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(r.name))
      throw new ProjectError("must be a JavaScript identifier (the binding's name)", {
        file,
        field: `${field}.name`,
      });
    const limit = r.simple?.limit;
    const period = r.simple?.period;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0)
      throw new ProjectError("must be a whole number of requests", { file, field: `${field}.simple.limit` });
    if (typeof period !== "number" || !RATE_LIMIT_PERIODS.includes(period))
      throw new ProjectError("must be 10 or 60 (seconds)", { file, field: `${field}.simple.period` });
    return {
      binding: r.name,
      namespaceId: typeof r.namespace_id === "string" ? r.namespace_id : String(r.namespace_id ?? ""),
      limit,
      period,
    };
  });
}
