import { MessageChannel, type MessagePort } from "node:worker_threads";
import * as Comlink from "comlink";
import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { Clock } from "../shared/clock.ts";
import type { EngineEvents } from "../shared/events.ts";
import type { DirectReport } from "../host/protocol.ts";
import type { WorkerHost } from "../host/worker-host.ts";

/** What direct-line bookkeeping reads and changes of a live object. */
export interface DirectLineObject {
  readonly record: ObjectRecord;
  readonly host: WorkerHost | null;
  readonly starting: Promise<WorkerHost> | null;
  readonly updating: Promise<void> | null;
  spanRequests: number;
  lastEventAt: number;
  /** Workers that have had a call to the object in flight on a direct line for a while (they report it). */
  readonly directBusy: Set<WorkerHost>;
}

/**
 * A direct line from a worker to the worker of a live object it calls
 * often (runtime/host/peers.ts), or null when the object has no settled
 * worker. The target refuses calls once it no longer hosts the object, and
 * the caller falls back to the orchestrator.
 */
export async function openPeer(live: DirectLineObject | undefined): Promise<MessagePort | null> {
  const host = live?.host;
  if (!live || !host?.alive || live.updating || live.starting) return null;
  const { port1, port2 } = new MessageChannel();
  try {
    await host.call((api) => api.connectPeer(Comlink.transfer(port1, [port1])));
  } catch {
    port2.close();
    return null;
  }
  return Comlink.transfer(port2, [port2]);
}

/** What recording direct-line calls needs of the lifecycle manager. */
export interface DirectLedger<L extends DirectLineObject> {
  readonly live: ReadonlyMap<string, L>;
  readonly registry: Pick<ServiceRegistry, "get" | "touch">;
  readonly events: EngineEvents;
  readonly clock: Clock;
  beginProcessing(live: L, cause: string): void;
  /** Counts calls made on direct lines (the manager's directCalls). */
  counted(calls: number): void;
}

/**
 * Calls a worker made on direct lines (runtime/host/peers.ts): the same
 * bookkeeping as the orchestrator's own calls, in batches, and which objects
 * it has had a call in flight to for a while.
 */
export function recordDirect<L extends DirectLineObject>(
  ledger: DirectLedger<L>,
  caller: WorkerHost,
  reports: DirectReport[],
): void {
  const now = ledger.clock.now();
  const listening = ledger.events.listening("request");
  for (const { objectId, busy: callerBusy, records } of reports) {
    const live = ledger.live.get(objectId);
    if (live) {
      const wasBusy = live.directBusy.size > 0;
      if (callerBusy) live.directBusy.add(caller);
      else live.directBusy.delete(caller);
      if (records.length === 0 && !callerBusy) continue;
      // Calls already done still open a Processing span, which the sweeper closes.
      if (!wasBusy) {
        ledger.beginProcessing(live, records[0]?.cause ?? "direct calls");
        live.spanRequests--;
      }
      live.spanRequests += records.length;
      live.lastEventAt = now;
    }
    // Calls that ran just before the object hibernated still count.
    const rec = live?.record ?? ledger.registry.get(objectId);
    if (!rec || records.length === 0) continue;
    rec.requests += records.length;
    ledger.counted(records.length);
    rec.lastActive = now;
    ledger.registry.touch(rec);
    if (!listening) continue;
    for (const r of records) {
      ledger.events.emit("request", {
        time: r.time - r.durationMs,
        objectId: rec.id,
        className: rec.className,
        kind: r.kind,
        method: r.cause,
        durationMs: r.durationMs,
        ok: r.ok,
        ...(r.error ? { error: r.error } : {}),
      });
    }
  }
}

/** A worker that ended: its calls on direct lines ended with it. */
export function forgetCaller(live: Iterable<DirectLineObject>, caller: WorkerHost): void {
  for (const l of live) l.directBusy.delete(caller);
}
