import type { ObjectRecord } from "../registry/registry.ts";
import type { LifecycleState } from "../shared/lifecycle-model.ts";
import { busy, countBusy, type LiveObject } from "./live.ts";
import type { WorkerPool } from "./pool.ts";
import { deadlineRace } from "./timing.ts";

/** How long an object with nothing in flight gets to deactivate (close its SQLite file) when Terrarium stops. */
const DEACTIVATE_MS = 1_000;

/** An object whose events were still running when Terrarium stopped. */
export interface CutShort {
  className: string;
  id: string;
  name: string | null;
  /** Events (requests, RPC calls, alarms, deliveries) it had in flight. */
  events: number;
}

/** What stopping every object needs of the Lifecycle Manager (which refuses new events by then). */
export interface CloseDeps {
  readonly live: Map<string, LiveObject>;
  readonly pool: Pick<WorkerPool, "close" | "slots" | "stopAll">;
  walk(rec: ObjectRecord, to: LifecycleState, cause: string): void;
}

/**
 * Stops every object, in bounded time. Those with events in flight get
 * `graceMs` to finish (they may still call other objects meanwhile). Then
 * each object that still has one is cut short: its worker is ended at once
 * (`WorkerHost.kill`; a call into a thread that spins is never answered,
 * and `terminate` stops it anyway), and its callers get a 503. The others
 * are deactivated, each given until the grace period ends or
 * DEACTIVATE_MS, whichever is later, before it is ended too. Resolves with
 * the objects that were cut short; `why` says why in their records.
 */
export async function stopObjects(deps: CloseDeps, graceMs: number, why: string): Promise<CutShort[]> {
  deps.pool.close();
  const deadline = Date.now() + graceMs;
  while (countBusy(deps.live.values()) > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));

  const cut: CutShort[] = [];
  const ending: Promise<void>[] = [];
  const deactivateBy = Math.max(deadline, Date.now() + DEACTIVATE_MS);
  for (const live of [...deps.live.values()]) {
    const rec = live.record;
    // A starting object has a worker (its slot) but not yet live.host.
    const host = live.host ?? [...deps.pool.slots()].find((s) => s.object === live)?.host ?? null;
    live.generation++;
    live.host = null;
    if (busy(live) || live.starting) {
      const events = Math.max(live.inFlight, live.directBusy.size);
      // One only starting (a shard warming up) had nothing of anyone's to cut short.
      if (events > 0) cut.push({ className: rec.className, id: rec.id, name: rec.name, events });
      live.killedFor = `Terrarium stopped before it answered (${why})`;
      live.inFlight = 0;
      // An object cut short while initializing stays Initializing, as after a crash (see #settleAfterRestart).
      if (rec.state !== "Initializing" && rec.state !== "Created") {
        deps.walk(rec, "Hibernating", `Terrarium stopped: cut short (${why})`);
      }
      if (host) ending.push(host.kill());
      continue;
    }
    deps.walk(rec, "Hibernating", "Terrarium stopped");
    if (!host) continue;
    ending.push(
      deadlineRace(
        host
          .call((api) => api.deactivate())
          .then(
            () => true,
            () => false,
          ),
        deactivateBy,
        false,
      ).then((deactivated) => (deactivated ? host.stop() : host.kill())),
    );
  }
  deps.live.clear();
  await Promise.all(ending);
  // The pool, the entry workers and any still starting: nothing of an object's runs on them.
  await deps.pool.stopAll();
  return cut;
}
