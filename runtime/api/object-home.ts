import type { Engine } from "../engine.ts";
import type { LifecycleManager } from "../lifecycle/lifecycle.ts";
import type { TimeTravel } from "../lifecycle/time-travel.ts";
import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { StateManager } from "../state/state-manager.ts";
import { schemas } from "./contract.ts";

/**
 * Where an object lives: the project's own Worker, or another Worker given
 * with `-c` (its registry, state, Lifecycle Manager and snapshots under
 * `<data>/workers/<name>/`). The control methods that act on one object
 * (hibernate, terminate, SQL writes, requests, snapshots) run it there, so
 * another Worker's objects get the same actions as the project's.
 */
export interface ObjectHome {
  readonly r: ObjectRecord;
  /** null: the project's own Worker. */
  readonly worker: string | null;
  readonly registry: ServiceRegistry;
  readonly state: StateManager;
  readonly lifecycle: LifecycleManager;
  readonly timeTravel: TimeTravel;
}

/** The object `id` of any running Worker, where it lives; throws when no Worker has it. */
export function objectHome(engine: Engine, id: string): ObjectHome {
  const oid = schemas.objectId.parse(id);
  const r = engine.registry.get(oid);
  if (r)
    return {
      r,
      worker: null,
      registry: engine.registry,
      state: engine.state,
      lifecycle: engine.lifecycle,
      timeTravel: engine.timeTravel,
    };
  for (const w of engine.otherWorkers) {
    const o = w.registry.get(oid);
    if (o)
      return {
        r: o,
        worker: w.name,
        registry: w.registry,
        state: w.state,
        lifecycle: w.lifecycle,
        timeTravel: w.timeTravel,
      };
  }
  throw new Error(`no object with id ${id}`);
}

/** The bindings that name an object's class in the Worker it lives in. */
export function bindingsOf(home: ObjectHome): string[] {
  return home.registry.classes().find((c) => c.className === home.r.className)?.bindings ?? [];
}
