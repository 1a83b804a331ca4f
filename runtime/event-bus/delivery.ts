/**
 * The Event Bus's delivery rules: which subscriptions an event matches, which
 * object a subscription names, and how failed deliveries are retried. Pure
 * and dependency-free: `terrarium export` copies this file into the exported
 * project, whose generated Event Bus follows the same rules.
 */

/** A delivery is given up ("dead") after this many failed attempts. */
export const MAX_DELIVERY_ATTEMPTS = 10;

/** Delay before the next attempt after `attempts` failed ones. */
export function retryDelayMs(attempts: number): number {
  return Math.min(60_000, 500 * 2 ** attempts);
}

/** "user.created" matches itself, "user.*" and "*". */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === "*" || pattern === topic) return true;
  return pattern.endsWith(".*") && topic.startsWith(pattern.slice(0, -1));
}

/** Expands "{data.userId}"-style placeholders from an event's data. */
export function expandTemplate(template: string, data: unknown): string {
  return template.replace(/\{([^}]+)\}/g, (_m, path: string) => {
    let v: unknown = { data };
    for (const part of path.split("."))
      v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
    return v === undefined || v === null ? "" : String(v);
  });
}
