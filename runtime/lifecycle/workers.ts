import type { WranglerProject } from "../config/wrangler.ts";
import type { SerializedResponse } from "../host/protocol.ts";
import type { LifecycleManager, ServiceCalls } from "./lifecycle.ts";

/** One Worker of a project as the service bindings see it. */
export interface ProjectWorker {
  readonly lifecycle: LifecycleManager;
  readonly wrangler: WranglerProject;
}

/**
 * Connects the service bindings (and the Durable Object bindings with a
 * `script_name`) of a project's Workers (`wrangler dev -c a
 * -c b`): a call on `env.SVC` in any of them goes to the entry of the
 * Worker the binding names, at its `entrypoint` export, as workerd routes a
 * service binding. A binding naming a Worker the project does not run
 * fails each call with an error saying how to add it, as wrangler dev's
 * binding to a Worker it has no session for does.
 */
export function connectWorkers(workers: readonly ProjectWorker[]): void {
  const byName = new Map(workers.map((w) => [w.wrangler.name, w]));
  const running = [...byName.keys()].map((n) => `"${n}"`).join(", ");
  for (const caller of workers) {
    const bindings = new Map(caller.wrangler.services.map((s) => [s.binding, s]));
    const target = (binding: string): { worker: ProjectWorker; entrypoint: string | null } => {
      const svc = bindings.get(binding);
      if (!svc) throw new Error(`${caller.wrangler.name} has no service binding ${binding}`);
      const worker = byName.get(svc.service);
      if (!worker) {
        // A plain Error: its message reaches the caller's code as it is.
        throw new Error(
          `Service binding ${binding}: no Worker named "${svc.service}" runs in this project ` +
            `(it runs ${running}); add its config with another -c <wrangler config>.`,
        );
      }
      return { worker, entrypoint: svc.entrypoint };
    };
    const calls: ServiceCalls = {
      fetch: async (binding, req) => {
        const t = target(binding);
        return (await t.worker.lifecycle.entrypointCall(t.entrypoint, { fetch: req })) as SerializedResponse;
      },
      rpc: async (binding, method, args, kind) => {
        const t = target(binding);
        return t.worker.lifecycle.entrypointCall(t.entrypoint, { method, args, kind });
      },
    };
    caller.lifecycle.services = calls;
    // Durable Object bindings to another Worker's class: its Lifecycle Manager, its own binding.
    caller.lifecycle.foreign = new Map(
      caller.wrangler.foreignDurableObjects.map((f) => [
        f.binding,
        () => {
          const worker = byName.get(f.scriptName);
          const own = worker?.wrangler.durableObjects.find((b) => b.className === f.className);
          if (!worker || !own) {
            throw new Error(
              `Durable Object binding ${f.binding}: no Worker named "${f.scriptName}" runs in this project ` +
                `(it runs ${running}); add its config with another -c <wrangler config>.`,
            );
          }
          return { lifecycle: worker.lifecycle, binding: own.binding };
        },
      ]),
    );
  }
}
