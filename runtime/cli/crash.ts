import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { WorkerObject } from "../lifecycle/lifecycle.ts";

/**
 * What ended an engine process, said in one line: shared by the CLI's
 * supervisor (supervise.ts) and the desktop app's (electron/engine-host.ts),
 * which both read the Node report the engine process writes on a fatal
 * error and know which object each of its worker threads served.
 */

/** The file, in the folder its supervisor gave it, where an engine process writes Node's report when it dies of a fatal error. */
export const CRASH_REPORT = "fatal.json";

/** What describeCrash reads of Node's report. */
export interface CrashReport {
  header?: { event?: string; threadId?: number };
}

/** Takes (reads and removes) the report a dead engine process left in `dir`; null when it wrote none or was cut short. */
export function takeCrashReport(dir: string): CrashReport | null {
  const file = join(dir, CRASH_REPORT);
  let report: CrashReport | null = null;
  try {
    if (existsSync(file)) report = JSON.parse(readFileSync(file, "utf8")) as CrashReport;
  } catch {
    // a report cut short: the exit code or signal says what it can
  }
  rmSync(file, { force: true });
  return report;
}

function who(o: WorkerObject): string {
  return `${o.className} ${o.name !== null ? `${JSON.stringify(o.name)} (${o.id.slice(0, 8)})` : o.id}`;
}

/** What ended an engine process, from its Node report (a fatal error) or the signal. */
export interface Crash {
  /** For the line the supervisor prints. */
  what: string;
  /** The object whose worker died of it, to refuse once: set for an out-of-memory in an object's worker. */
  object: WorkerObject | null;
  outOfMemory: boolean;
}

export function describeCrash(
  signal: string,
  report: CrashReport | null,
  threads: ReadonlyMap<number, WorkerObject | null>,
  memoryLimitMb: number,
): Crash {
  const event = report?.header?.event;
  if (!event) {
    const why =
      signal === "SIGKILL"
        ? "killed by SIGKILL (the system's out-of-memory killer, or another process)"
        : `ended by ${signal}`;
    return { what: `the engine process was ${why}`, object: null, outOfMemory: false };
  }
  const thread = report.header?.threadId ?? -1;
  const object = threads.get(thread) ?? null;
  const outOfMemory = /heap out of memory/i.test(event);
  const where =
    thread === 0
      ? "the engine's main thread"
      : object
        ? `Durable Object ${who(object)}`
        : "a worker thread with no Durable Object on it (the entry Worker or a pooled one)";
  const what = outOfMemory
    ? `${where} ran out of memory: an allocation past its ${memoryLimitMb} MB heap limit, too large for Node to stop the thread alone, aborted the engine process (${signal})`
    : `${where} hit a fatal error (${event}), which aborted the engine process (${signal})`;
  return { what, object, outOfMemory };
}

/** The message the object's next request is refused with. */
export function refusalMessage(o: WorkerObject, memoryLimitMb: number): string {
  return (
    `Durable Object ${o.className} ${o.id} was reset: it ran out of memory with an allocation past its ` +
    `${memoryLimitMb} MB heap limit, which ended the server process; the server restarted, and this ` +
    `request is refused so that the object cannot end it again at once (the next request runs it)`
  );
}
