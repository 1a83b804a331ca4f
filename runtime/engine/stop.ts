import type { CutShort } from "../lifecycle/lifecycle.ts";
// What a stop of the engine reports: what its grace period cut short.

/** How long in-flight work gets to finish when the engine closes, unless told otherwise. */
export const DEFAULT_GRACE_MS = 5_000;

/** What a stop cut short when its grace period ended. */
export interface StopReport {
  graceMs: number;
  /** HTTP requests (and WebSocket upgrades) still unanswered: they were answered 503. */
  requests: number;
  /** Objects with events still in flight: their workers were ended. */
  objects: CutShort[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The one line saying what a stop cut short, or null when it cut nothing short. */
export function cutShortLine(r: StopReport): string | null {
  const parts: string[] = [];
  if (r.requests > 0) parts.push(plural(r.requests, "request"));
  if (r.objects.length > 0) {
    const named = r.objects.map(
      (o) =>
        `${o.className} ${o.name !== null ? JSON.stringify(o.name) : o.id.slice(0, 8)} (${plural(o.events, "event")})`,
    );
    parts.push(`${plural(r.objects.length, "object")}: ${named.join(", ")}`);
  }
  if (parts.length === 0) return null;
  return `terrarium: stopped after the ${r.graceMs} ms grace period, cutting short ${parts.join(" and ")}`;
}
