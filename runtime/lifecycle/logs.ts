import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { Clock } from "../shared/clock.ts";
import type { EngineEvents } from "../shared/events.ts";

/**
 * Where log lines of a Worker's objects go: the registry's log table and
 * the engine's event stream. Lines the workers write (console.log and the
 * like, through the gateway) keep their own time; the Lifecycle Manager's
 * own lines (a constructor that failed, a lost worker) are timed now and
 * say they are Terrarium's.
 */
export class ObjectLogs {
  readonly #registry: Pick<ServiceRegistry, "recordLog">;
  readonly #events: EngineEvents;
  readonly #clock: Clock;

  constructor(deps: { registry: Pick<ServiceRegistry, "recordLog">; events: EngineEvents; clock: Clock }) {
    this.#registry = deps.registry;
    this.#events = deps.events;
    this.#clock = deps.clock;
  }

  /** A line about `rec` (null: the entry Worker); `source` defaults to the object's class, or "entry". */
  write(rec: ObjectRecord | null, level: string, message: string, time: number, source?: string): void {
    const entry = this.#registry.recordLog({
      time,
      level,
      source: source ?? (rec ? rec.className : "entry"),
      objectId: rec?.id ?? null,
      message,
    });
    this.#events.emit("log", entry);
  }

  /** A line of Terrarium's own about `rec` (null: the Worker as a whole), timed now. */
  terrarium(rec: ObjectRecord | null, level: string, message: string): void {
    this.write(rec, level, message, this.#clock.now(), "terrarium");
  }
}
