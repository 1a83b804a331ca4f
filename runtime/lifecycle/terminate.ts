import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { LifecycleState } from "../shared/lifecycle-model.ts";
import type { StateManager } from "../state/state-manager.ts";
import type { LiveObject } from "./live.ts";
import type { WorkerPool } from "./pool.ts";
import type { ObjectSockets } from "./sockets.ts";

/** What ending an object for good needs of the Lifecycle Manager. */
export interface TerminateDeps {
  readonly live: Map<string, LiveObject>;
  readonly registry: Pick<ServiceRegistry, "get" | "remove">;
  readonly state: Pick<StateManager, "remove">;
  readonly sockets: Pick<ObjectSockets, "closeObject">;
  readonly pool: Pick<WorkerPool, "forget">;
  transition(rec: ObjectRecord, to: LifecycleState, cause: string): void;
}

/**
 * Ends object `id` for good: its worker (events in flight are cancelled),
 * its WebSockets (closed with 1001), its storage and alarm, its record. An
 * object that never got going is just forgotten. Resolves false when there
 * is no such object.
 */
export async function terminateObject(deps: TerminateDeps, id: string, cause: string): Promise<boolean> {
  const rec = deps.registry.get(id);
  if (!rec) return false;
  const live = deps.live.get(id);
  if (live?.starting) await live.starting.catch(() => {});
  if (rec.state === "Processing" || rec.state === "Updating" || rec.state === "Scaling") {
    deps.transition(rec, "Active", `${cause} (in-flight requests cancelled)`);
  }
  if (rec.state === "Created" || rec.state === "Initializing") {
    // Never got going: nothing to walk through, just forget it.
    deps.live.delete(id);
    deps.state.remove(rec.className, rec.id);
    deps.registry.remove(id);
    return true;
  }
  deps.transition(rec, "Terminating", cause);
  deps.sockets.closeObject(rec.id, 1001, "the Durable Object was terminated");
  if (live) {
    live.generation++;
    const host = live.host;
    live.host = null;
    deps.live.delete(id);
    if (host) {
      deps.pool.forget(host);
      await host.stop();
    }
  }
  deps.state.remove(rec.className, rec.id);
  deps.registry.remove(id);
  return true;
}
