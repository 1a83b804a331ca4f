import { MessageChannel, type MessagePort } from "node:worker_threads";
import * as Comlink from "comlink";
import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { Clock } from "../shared/clock.ts";
import type { EngineEvents } from "../shared/events.ts";
import type { DirectReport } from "../host/protocol.ts";
import type { WorkerHost } from "../host/worker-host.ts";
import type { Namespaces } from "../registry/namespaces.ts";
import type { TraceStore } from "../state/traces.ts";
import { directSpans } from "./tracing.ts";

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

/** What the direct lines need of the Lifecycle Manager. */
export interface DirectDeps<L extends DirectLineObject> extends Omit<DirectLedger<L>, "counted"> {
  /** Where the spans of traced calls on direct lines go; null: nothing is traced. */
  readonly tracer: TraceStore | null;
  /** Whether a binding leads to another Worker's class (workers.ts): its calls take no direct line. */
  readonly links: { isForeign(binding: string): boolean };
  /** Every worker thread, asked for the calls it has not reported yet (settle). */
  readonly workers: { slots(): Iterable<{ readonly host: WorkerHost }> };
  /** The current code's ids (the manager replaces them with the code). */
  namespaces(): Pick<Namespaces, "byId">;
}

/**
 * The Lifecycle Manager's side of the direct lines between workers: it
 * opens them (peer), books the calls made on them as its own (record), and
 * counts those calls.
 */
export class DirectLines<L extends DirectLineObject> {
  readonly #deps: DirectDeps<L>;
  readonly #ledger: DirectLedger<L>;
  #calls = 0;

  constructor(deps: DirectDeps<L>) {
    this.#deps = deps;
    this.#ledger = {
      live: deps.live,
      registry: deps.registry,
      events: deps.events,
      clock: deps.clock,
      beginProcessing: (live, cause) => deps.beginProcessing(live, cause),
      counted: (calls) => {
        this.#calls += calls;
      },
    };
  }

  /** Calls served on direct lines between workers, since start. */
  get calls(): number {
    return this.#calls;
  }

  /** A direct line to the worker of a live object; null for another Worker's object or one with no settled worker. */
  async peer(binding: string, idHex: string): Promise<MessagePort | null> {
    if (this.#deps.links.isForeign(binding)) return null;
    const { id } = this.#deps.namespaces().byId(binding, idHex);
    return openPeer(this.#deps.live.get(id));
  }

  /** Calls a worker made on direct lines, booked as the manager books its own (recordDirect), with their spans. */
  record(caller: WorkerHost, reports: DirectReport[]): void {
    recordDirect(this.#ledger, caller, reports);
    if (this.#deps.tracer) directSpans(this.#deps.tracer, this.#deps.live, this.#deps.registry, reports);
  }

  /**
   * Collects the direct-line calls workers have done but not yet reported
   * (they report every few milliseconds), so counts read right after a run
   * include every call.
   */
  async settle(): Promise<void> {
    await Promise.all(
      [...this.#deps.workers.slots()].map(async ({ host }) => {
        if (!host.alive) return;
        const reports = await host.call((api) => api.takeDirect()).catch(() => null);
        if (reports && reports.length > 0) this.record(host, reports);
      }),
    );
  }
}
