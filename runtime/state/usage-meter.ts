import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LifecycleState } from "../lifecycle/state-machine.ts";

/**
 * What a project's Durable Objects used, per class, as Cloudflare bills
 * it: requests (every event: HTTP, RPC, alarms, Event Bus deliveries,
 * WebSocket messages), incoming WebSocket messages, milliseconds live (in
 * memory and not hibernated), and SQL rows read and written. Kept in memory,
 * written to `<data>/usage.json` every few seconds and at close, so "since the
 * project started" survives restarts.
 */
export interface ClassUsage {
  requests: number;
  wsMessages: number;
  activeMs: number;
  rowsRead: number;
  rowsWritten: number;
}

export interface UsageSnapshot {
  /** When counting began for this data folder. */
  since: number;
  at: number;
  byClass: Record<string, ClassUsage>;
}

const FILE = "usage.json";
const FLUSH_MS = 5_000;
/** States in which an object is in memory and billed for duration. */
const ASLEEP: ReadonlySet<LifecycleState> = new Set(["Created", "Hibernating", "Terminating"]);

const zero = (): ClassUsage => ({ requests: 0, wsMessages: 0, activeMs: 0, rowsRead: 0, rowsWritten: 0 });

export function addUsage(a: ClassUsage, b: ClassUsage, sign = 1): ClassUsage {
  return {
    requests: a.requests + sign * b.requests,
    wsMessages: a.wsMessages + sign * b.wsMessages,
    activeMs: a.activeMs + sign * b.activeMs,
    rowsRead: a.rowsRead + sign * b.rowsRead,
    rowsWritten: a.rowsWritten + sign * b.rowsWritten,
  };
}

/** What was used between two snapshots, per class (classes with nothing used are left out). */
export function usageBetween(from: UsageSnapshot, to: UsageSnapshot): Record<string, ClassUsage> {
  const out: Record<string, ClassUsage> = {};
  for (const [c, u] of Object.entries(to.byClass)) {
    const d = addUsage(u, from.byClass[c] ?? zero(), -1);
    if (d.requests || d.wsMessages || d.activeMs || d.rowsRead || d.rowsWritten) out[c] = d;
  }
  return out;
}

export class UsageMeter {
  readonly #file: string;
  readonly #now: () => number;
  readonly #since: number;
  readonly #byClass = new Map<string, ClassUsage>();
  /** Objects in memory now: since when, and their class. */
  readonly #live = new Map<string, { className: string; since: number }>();
  #dirty = false;
  readonly #timer: NodeJS.Timeout;

  constructor(dataDir: string, now: () => number) {
    this.#file = join(dataDir, FILE);
    this.#now = now;
    let since = now();
    try {
      const saved = JSON.parse(readFileSync(this.#file, "utf8")) as UsageSnapshot;
      if (typeof saved.since === "number") since = saved.since;
      for (const [c, u] of Object.entries(saved.byClass ?? {})) this.#byClass.set(c, addUsage(zero(), u));
    } catch {
      // No file yet, or one that does not parse: counting starts now.
    }
    this.#since = since;
    this.#timer = setInterval(() => this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  #of(className: string): ClassUsage {
    let u = this.#byClass.get(className);
    if (!u) this.#byClass.set(className, (u = zero()));
    this.#dirty = true;
    return u;
  }

  request(className: string): void {
    this.#of(className).requests++;
  }

  wsMessage(className: string): void {
    this.#of(className).wsMessages++;
  }

  rows(className: string, read: number, written: number): void {
    const u = this.#of(className);
    u.rowsRead += read;
    u.rowsWritten += written;
  }

  /** Follows an object's lifecycle: the time between waking and hibernating is billed duration. */
  transition(objectId: string, className: string, to: LifecycleState, time: number): void {
    const live = this.#live.get(objectId);
    if (ASLEEP.has(to)) {
      if (!live) return;
      this.#of(live.className).activeMs += Math.max(0, time - live.since);
      this.#live.delete(objectId);
    } else if (!live) this.#live.set(objectId, { className, since: time });
  }

  /** Totals per class since counting began, objects still in memory counted up to now. */
  snapshot(): UsageSnapshot {
    const now = this.#now();
    const byClass: Record<string, ClassUsage> = {};
    for (const [c, u] of this.#byClass) byClass[c] = { ...u };
    for (const l of this.#live.values()) {
      const u = (byClass[l.className] ??= zero());
      u.activeMs += Math.max(0, now - l.since);
    }
    return { since: this.#since, at: now, byClass };
  }

  flush(): void {
    if (!this.#dirty && this.#live.size === 0) return;
    this.#dirty = false;
    const tmp = `${this.#file}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(this.snapshot()));
      renameSync(tmp, this.#file);
    } catch {
      // The data folder went away (a test removing it, a user deleting it): nothing to keep.
    }
  }

  /** Ends every live interval now (the engine is closing) and writes the file. */
  close(): void {
    clearInterval(this.#timer);
    const now = this.#now();
    for (const [id, l] of [...this.#live]) this.transition(id, l.className, "Hibernating", now);
    this.#dirty = true;
    this.flush();
  }
}
