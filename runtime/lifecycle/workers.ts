import type { WranglerProject } from "../config/wrangler.ts";
import type { SerializedRequest, SerializedResponse } from "../host/protocol.ts";
import type { RpcArgs } from "../shared/rpc-wire.ts";
import type { LifecycleManager } from "./lifecycle.ts";

/** One Worker of a project as the service bindings see it. */
export interface ProjectWorker {
  readonly lifecycle: LifecycleManager;
  readonly wrangler: WranglerProject;
}

/**
 * Where one Worker's service bindings (`services`) and its Durable Object
 * bindings to classes of another Worker (`script_name`) lead. A Lifecycle
 * Manager gets its links when it is made; the Workers they lead to are
 * looked up at each call (ProjectWorkers.connect may change them).
 */
export interface WorkerLinks {
  serviceFetch(binding: string, req: SerializedRequest): Promise<SerializedResponse>;
  serviceRpc(binding: string, method: string, args: RpcArgs, kind: "call" | "get"): Promise<unknown>;
  /** Whether `binding` is a Durable Object binding to another Worker's class (its calls never take direct lines). */
  isForeign(binding: string): boolean;
  /**
   * The Lifecycle Manager of the Worker a foreign binding leads to, with
   * that Worker's own binding for the class; null for a binding of the
   * Worker's own classes. Throws when that Worker does not run.
   */
  foreign(binding: string): { lifecycle: LifecycleManager; binding: string } | null;
}

/** The links of a Worker alone: its service bindings lead nowhere, it has no foreign bindings. */
export const noLinks: WorkerLinks = {
  serviceFetch: (binding) => Promise.reject(new Error(`service binding ${binding} leads nowhere`)),
  serviceRpc: (binding) => Promise.reject(new Error(`service binding ${binding} leads nowhere`)),
  isForeign: () => false,
  foreign: () => null,
};

/**
 * The Workers of a project (`wrangler dev -c a -c b`), connected: a call on
 * `env.SVC` in any of them goes to the entry of the Worker the binding
 * names, at its `entrypoint` export, as workerd routes a service binding,
 * and a Durable Object binding with a `script_name` is answered by that
 * Worker's Lifecycle Manager. A binding naming a Worker the project does
 * not run fails each call with an error saying how to add it, as wrangler
 * dev's binding to a Worker it has no session for does.
 */
export class ProjectWorkers {
  #byName = new Map<string, ProjectWorker>();

  /** The Workers running now (and their configs, which a reload may change). */
  connect(workers: readonly ProjectWorker[]): void {
    this.#byName = new Map(workers.map((w) => [w.wrangler.name, w]));
  }

  #running(): string {
    return [...this.#byName.keys()].map((n) => `"${n}"`).join(", ");
  }

  /** The links of the Worker named `name`, read from its config as last connected. */
  linksOf(name: string): WorkerLinks {
    const own = (): WranglerProject | undefined => this.#byName.get(name)?.wrangler;
    const target = (binding: string): { worker: ProjectWorker; entrypoint: string | null } => {
      const config = own();
      // Not connected yet (the Workers are still starting).
      if (!config) throw new Error(`service binding ${binding} leads nowhere`);
      const svc = config.services.find((s) => s.binding === binding);
      if (!svc) throw new Error(`${name} has no service binding ${binding}`);
      const worker = this.#byName.get(svc.service);
      if (!worker) {
        // A plain Error: its message reaches the caller's code as it is.
        throw new Error(
          `Service binding ${binding}: no Worker named "${svc.service}" runs in this project ` +
            `(it runs ${this.#running()}); add its config with another -c <wrangler config>.`,
        );
      }
      return { worker, entrypoint: svc.entrypoint };
    };
    const foreignOf = (binding: string) => own()?.foreignDurableObjects.find((f) => f.binding === binding);
    return {
      serviceFetch: async (binding, req) => {
        const t = target(binding);
        return (await t.worker.lifecycle.entrypointCall(t.entrypoint, { fetch: req })) as SerializedResponse;
      },
      serviceRpc: async (binding, method, args, kind) => {
        const t = target(binding);
        return t.worker.lifecycle.entrypointCall(t.entrypoint, { method, args, kind });
      },
      isForeign: (binding) => foreignOf(binding) !== undefined,
      foreign: (binding) => {
        const f = foreignOf(binding);
        if (!f) return null;
        const worker = this.#byName.get(f.scriptName);
        const theirs = worker?.wrangler.durableObjects.find((b) => b.className === f.className);
        if (!worker || !theirs) {
          throw new Error(
            `Durable Object binding ${f.binding}: no Worker named "${f.scriptName}" runs in this project ` +
              `(it runs ${this.#running()}); add its config with another -c <wrangler config>.`,
          );
        }
        return { lifecycle: worker.lifecycle, binding: theirs.binding };
      },
    };
  }
}
