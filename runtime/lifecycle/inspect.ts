import type { QueryResult } from "../shared/sql-query.ts";
import type { Clock } from "../shared/clock.ts";
import type { ObjectProbe } from "../host/probe.ts";
import type { ServiceRegistry } from "../registry/registry.ts";
import type { StateManager } from "../state/state-manager.ts";
import { policyOf, type LifecycleOptions, type LiveObject } from "./live.ts";
import type { ObjectSockets } from "./sockets.ts";
import { within } from "./timing.ts";
import { whyAwake, type WhyAwake } from "./why-awake.ts";

/** How long "why is it awake?" waits for an object's worker to answer its probe. */
const PROBE_MS = 1_000;

/** What the Inspector's looks into live objects read of the Lifecycle Manager. */
export interface InspectView {
  readonly live: ReadonlyMap<string, LiveObject>;
  readonly registry: Pick<ServiceRegistry, "get" | "touch">;
  readonly state: Pick<StateManager, "alarms" | "storageBytes">;
  readonly sockets: Pick<ObjectSockets, "list">;
  readonly clock: Clock;
  readonly options: Pick<LifecycleOptions, "policy" | "classPolicies">;
}

/**
 * The Inspector's looks into objects through their workers, between their
 * events: why an object is awake, its fields, its database (a statement, a
 * snapshot). Each answers null (or false) when the object has no worker
 * now, so the caller reads the file instead.
 */
export class Inspection {
  readonly #view: InspectView;

  constructor(view: InspectView) {
    this.#view = view;
  }

  /**
   * Why an object is not hibernating now, and when it will (see
   * why-awake.ts). With `probe`, its worker is asked too (waitUntil,
   * blockConcurrencyWhile, an open transaction, its fields), bounded to
   * PROBE_MS: an object spinning on its thread does not answer, and is
   * shown by what the orchestrator knows.
   */
  async whyAwake(id: string, opts: { probe: boolean }): Promise<WhyAwake | null> {
    const live = this.#view.live.get(id);
    const probe =
      opts.probe && live?.host?.alive && !live.starting
        ? await within(
            live.host.call((api) => api.probe()),
            PROBE_MS,
          )
        : null;
    return this.#whyAwake(id, probe);
  }

  /** whyAwake from what the orchestrator knows alone (no call into the worker), for tables. */
  whyAwakeNow(id: string): WhyAwake | null {
    return this.#whyAwake(id, null);
  }

  #whyAwake(id: string, probe: ObjectProbe | null): WhyAwake | null {
    const rec = this.#view.registry.get(id);
    if (!rec) return null;
    const live = this.#view.live.get(id);
    let standard = 0;
    let hibernatable = 0;
    for (const s of this.#view.sockets.list(id)) {
      if (!s.accepted || !s.open) continue;
      if (s.hibernatable) hibernatable++;
      else standard++;
    }
    return whyAwake({
      state: rec.state,
      live: !!live && (!!live.host || !!live.starting),
      starting: !!live?.starting,
      streams: live?.streams ?? 0,
      heldStubs: live?.heldStubs ?? 0,
      inFlight: live?.inFlight ?? 0,
      directCalls: live?.directBusy.size ?? 0,
      lastEventAt: live?.lastEventAt ?? rec.lastActive,
      idleSince: live?.idleSince ?? rec.lastActive,
      policy: policyOf(this.#view.options, rec.className),
      standardSockets: standard,
      hibernatableSockets: hibernatable,
      alarmAt: this.#view.state.alarms(id)[0]?.time ?? null,
      probe,
      now: this.#view.clock.now(),
    });
  }

  /** The fields of a live object as its worker previews them; null when it is not live or does not answer. */
  async fields(id: string): Promise<Record<string, string> | null> {
    const live = this.#view.live.get(id);
    if (!live?.host?.alive || live.starting) return null;
    const probe = await within(
      live.host.call((api) => api.probe()),
      PROBE_MS,
    );
    return probe?.fields ?? null;
  }

  /**
   * Copies a live object's database to `dest` in its worker, between its
   * events; false when no worker has the object right now (copy the file).
   */
  async snapshotLive(id: string, dest: string): Promise<boolean> {
    const live = this.#view.live.get(id);
    if (!live?.host || live.starting || live.updating) return false;
    await live.host.call((api) => api.snapshotTo(dest));
    return true;
  }

  /**
   * Runs a statement from the Inspector on a live object's database, in its
   * worker (which has the file open) between its events; null when the
   * object has no worker right now (run it on the file instead).
   */
  async adminSql(id: string, sql: string, params: unknown[]): Promise<QueryResult | null> {
    const live = this.#view.live.get(id);
    if (!live?.host || live.starting || live.updating) return null;
    const result = await live.host.call((api) => api.adminSql(sql, params));
    live.record.storageBytes = this.#view.state.storageBytes(live.record.className, live.record.id);
    this.#view.registry.touch(live.record);
    return result;
  }
}
