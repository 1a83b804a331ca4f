import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { Clock } from "../shared/clock.ts";
import type { EngineEvents } from "../shared/events.ts";
import {
  canTransition,
  IllegalTransitionError,
  pathBetween,
  type LifecycleState,
} from "../shared/lifecycle-model.ts";
import type { StateManager } from "../state/state-manager.ts";
import { freshLive, type LiveObject } from "./live.ts";

/** What keeping objects' records through the state machine needs of the Lifecycle Manager. */
export interface RecordsDeps {
  /** The manager's live objects: an object's first event makes its entry. */
  readonly live: Map<string, LiveObject>;
  readonly registry: Pick<
    ServiceRegistry,
    "get" | "create" | "objects" | "remove" | "touch" | "recordTransition"
  >;
  readonly state: Pick<StateManager, "remove">;
  readonly clock: Clock;
  readonly events: Pick<EngineEvents, "emit">;
}

/**
 * Objects' records through the seed's state machine: a record made
 * (Created) on an object's first event, with its live entry, each
 * transition checked against the machine, recorded in the registry and
 * emitted, and the records left on disk settled when Terrarium starts
 * again (nothing is live then).
 */
export class ObjectRecords {
  readonly #deps: RecordsDeps;

  constructor(deps: RecordsDeps) {
    this.#deps = deps;
  }

  /** Moves `obj` to `to`; an illegal move is a bug: it is reported (a "problem" event) and thrown. */
  transition(obj: ObjectRecord, to: LifecycleState, cause: string): void {
    const { registry, events, clock } = this.#deps;
    if (!canTransition(obj.state, to)) {
      const err = new IllegalTransitionError(obj.state, to, obj.id);
      events.emit("problem", {
        time: clock.now(),
        message: `BUG: ${err.message} (${cause})`,
        objectId: obj.id,
      });
      throw err;
    }
    const rec = registry.recordTransition({
      time: clock.now(),
      objectId: obj.id,
      className: obj.className,
      from: obj.state,
      to,
      cause,
    });
    obj.state = to;
    registry.touch(obj);
    events.emit("transition", rec);
  }

  /** Moves `obj` to `to` through the states between (avoiding `avoid`); nothing when there is no way. */
  walk(
    obj: ObjectRecord,
    to: LifecycleState,
    cause: string,
    avoid: LifecycleState[] = ["Initializing"],
  ): void {
    const path = pathBetween(obj.state, to, avoid);
    if (!path) return;
    for (const s of path) this.transition(obj, s, cause);
  }

  /** After a restart or crash of the process, nothing is live: settle every record on disk. */
  settleAfterRestart(): void {
    const { registry, state } = this.#deps;
    for (const rec of registry.objects()) {
      if (rec.state === "Terminating") {
        state.remove(rec.className, rec.id);
        registry.remove(rec.id);
      } else if (rec.state !== "Hibernating" && rec.state !== "Created" && rec.state !== "Initializing") {
        this.walk(rec, "Hibernating", "recovered: Terrarium restarted");
      }
    }
  }

  /** Object `id`'s live entry, made if it has none (with its record, Created, if it has none either). */
  live(className: string, id: string, name: string | null, cause: string): LiveObject {
    let live = this.#deps.live.get(id);
    if (live) return live;
    live = freshLive(this.#find(className, id, name, cause), this.#deps.clock.now());
    this.#deps.live.set(id, live);
    return live;
  }

  /** The record of object `id`, made (Created) if it has none; a name learned later is kept. */
  #find(className: string, id: string, name: string | null, cause: string): ObjectRecord {
    const { registry, events, clock } = this.#deps;
    let rec = registry.get(id);
    if (!rec) {
      const now = clock.now();
      rec = registry.create({
        id,
        className,
        name,
        state: "Created",
        createdAt: now,
        lastActive: now,
        requests: 0,
        storageBytes: 0,
        lastError: null,
      });
      const t = registry.recordTransition({
        time: now,
        objectId: id,
        className,
        from: null,
        to: "Created",
        cause,
      });
      events.emit("transition", t);
    } else if (name && !rec.name) {
      rec.name = name;
    }
    return rec;
  }
}
