import type { ObjectIdentity } from "../host/protocol.ts";
import type { WorkerHost } from "../host/worker-host.ts";
import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import { isReset } from "../shared/comlink-node.ts";
import { errorText } from "../shared/errors.ts";
import type { Clock } from "../shared/clock.ts";
import type { LifecycleState } from "../shared/lifecycle-model.ts";
import type { StateManager } from "../state/state-manager.ts";
import type { Closures } from "./closures.ts";
import { ObjectError, type LiveObject } from "./live.ts";
import type { ObjectLogs } from "./logs.ts";
import type { WorkerPool } from "./pool.ts";
import type { ObjectSockets } from "./sockets.ts";

/** What giving an object a worker needs of the Lifecycle Manager. */
export interface ActivationDeps {
  readonly registry: Pick<ServiceRegistry, "touch">;
  readonly state: Pick<StateManager, "dbPath" | "alarms">;
  readonly sockets: Pick<ObjectSockets, "held">;
  readonly pool: Pick<WorkerPool, "forObject" | "slot" | "assign" | "offer">;
  readonly closures: Pick<Closures, "refusal">;
  readonly logs: Pick<ObjectLogs, "terrarium">;
  readonly clock: Clock;
  /** Whether Terrarium is stopping (a worker cut short then is not the constructor's fault). */
  closed(): boolean;
  transition(rec: ObjectRecord, to: LifecycleState, cause: string): void;
  /** The object's worker ended on its own: it is lost (its in-memory state goes, its storage stays). */
  lose(live: LiveObject, host: WorkerHost, cause: string): Promise<void>;
}

/**
 * An object gets a worker: Created or Hibernating -> Initializing -> Active.
 * A worker from the pool takes on the object's identity (its storage, its
 * alarm, its held sockets) and runs its constructor; one start at a time
 * per object, every event waiting on it. An object whose class or storage
 * is closed (closures.ts), or that is refused once, does not start.
 */
export class Activation {
  readonly #deps: ActivationDeps;
  readonly #refuseOnce = new Map<string, string>();

  constructor(deps: ActivationDeps) {
    this.#deps = deps;
  }

  /** The next start of object `id` fails with `message` (HTTP 500) instead, once. */
  refuseOnce(id: string, message: string): void {
    this.#refuseOnce.set(id, message);
  }

  /** The object's worker, started if it has none (the start under way, if one is). */
  async ensure(live: LiveObject, cause: string): Promise<WorkerHost> {
    if (live.host?.alive) return live.host;
    if (live.starting) return live.starting;
    const closed = this.#deps.closures.refusal(live.record.className, live.record.id);
    if (closed !== undefined) throw new ObjectError(closed, 503);
    const refused = this.#refuseOnce.get(live.record.id);
    if (refused !== undefined) {
      this.#refuseOnce.delete(live.record.id);
      throw new ObjectError(refused, 500);
    }
    live.starting = this.#activate(live, cause).finally(() => {
      live.starting = null;
    });
    return live.starting;
  }

  /** What a worker needs to become this object: its storage, its alarm, its held sockets. */
  identity(rec: ObjectRecord): ObjectIdentity {
    return {
      className: rec.className,
      id: rec.id,
      name: rec.name,
      dbPath: this.#deps.state.dbPath(rec.className, rec.id),
      alarm: this.#deps.state.alarms(rec.id)[0]?.time ?? null,
      sockets: this.#deps.sockets.held(rec.id),
    };
  }

  async #activate(live: LiveObject, cause: string): Promise<WorkerHost> {
    const { pool, registry, logs } = this.#deps;
    const rec = live.record;
    if (rec.state === "Created" || rec.state === "Hibernating")
      this.#deps.transition(rec, "Initializing", cause);
    let host: WorkerHost;
    try {
      host = await pool.forObject();
    } catch (e) {
      rec.lastError = errorText(e);
      registry.touch(rec);
      logs.terrarium(rec, "error", `could not start: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    const slot = pool.slot(host)!;
    pool.assign(slot, live);
    try {
      await host.call((api) => api.activate(this.identity(rec)));
    } catch (e) {
      pool.assign(slot, null);
      // Cut short by a stop (see close): not the constructor's fault.
      if (this.#deps.closed()) {
        void host.stop();
        throw new ObjectError("Terrarium stopped before the object was ready", 503);
      }
      // The isolate closes the object's database when its constructor throws, so the
      // worker is as clean as after a hibernation and goes back to the pool: an
      // object that fails to start on every request must not cost a thread each time.
      // One whose constructor's blockConcurrencyWhile failed is broken for good (its
      // error is marked as a reset; the notice saying so may come after it).
      if (host.broken || isReset(e)) void host.stop();
      else pool.offer(host);
      const msg = errorText(e);
      rec.lastError = msg;
      registry.touch(rec);
      logs.terrarium(rec, "error", `constructor failed: ${msg}`);
      // The caller sees the constructor's own error, as with workerd.
      throw e;
    }
    rec.lastError = null;
    live.host = host;
    live.idleSince = this.#deps.clock.now();
    this.#deps.transition(rec, "Active", "initialized");
    void host.exited.then((exit) => {
      if (!exit.requested && live.host === host) {
        const why = exit.error
          ? `${exit.error.name}: ${exit.error.message}`
          : `worker exited with code ${exit.code}`;
        void this.#deps.lose(live, host, `reset: ${why}`);
      }
    });
    return host;
  }
}
