import { basename, dirname, resolve } from "node:path";
import { loadDevVars, type DevVars } from "./dev-vars.ts";
import { projectQueues, queuesConfig, type QueuesConfig } from "./queues.ts";
import { ProjectError } from "./errors.ts";
import { loadTerrariumConfig, eventBusBinding, type TerrariumConfig } from "./terrarium.ts";
import { loadWranglerConfig, type WranglerProject } from "./wrangler.ts";

export interface Project {
  readonly dir: string;
  readonly wrangler: WranglerProject;
  readonly terrarium: TerrariumConfig;
  readonly eventBusBinding: string | null;
  /** `.dev.vars` (or `.env`) secrets: in `env`, never shown. */
  readonly devVars: DevVars;
  /** wrangler's `queues`: producer bindings and this Worker's consumers. */
  readonly queues: QueuesConfig;
  /**
   * The queues of every Worker (`-c`): each other Worker's producers and
   * consumers tagged with its name. The broker runs on these.
   */
  readonly allQueues: QueuesConfig;
  /** The named environment that runs (`--env`), or null for the top level. */
  readonly env: string | null;
  /** `--var KEY:VALUE` values: over `vars` and the secrets, as wrangler dev's `--var`. */
  readonly varOverrides: Readonly<Record<string, string>>;
  /**
   * The project's other Workers (`-c a.jsonc -c b.jsonc`: every config after
   * the first), each with its own config, secrets and environment. The
   * project's Worker (`wrangler`) is the one the router serves.
   */
  readonly workers: readonly AuxiliaryWorker[];
}

/** Another Worker of the project, reached through service bindings. */
export interface AuxiliaryWorker {
  readonly dir: string;
  readonly wrangler: WranglerProject;
  readonly devVars: DevVars;
  /** Its `queues`: it sends to the project's queues and may consume some of them. */
  readonly queues: QueuesConfig;
}

/** How a project is opened: the CLI's `--env`, `-c/--config` and `--var`. */
export interface ProjectOptions {
  readonly env?: string | null;
  /**
   * Config files (`-c`): the first is the project's Worker (its folder is the
   * project folder), the others more Workers. Empty: the folder's own config.
   */
  readonly configs?: readonly string[];
  readonly vars?: Readonly<Record<string, string>>;
}

/** Loads and validates a project folder; throws ProjectError and starts nothing on bad input. */
export function loadProject(dir: string, opts: ProjectOptions = {}): Project {
  const env = opts.env ?? null;
  const [primary, ...others] = (opts.configs ?? []).map((c) => resolve(c));
  const abs = primary ? dirname(primary) : resolve(dir);
  const wrangler = loadWranglerConfig(abs, { env, ...(primary ? { configPath: primary } : {}) });
  const terrarium = loadTerrariumConfig(abs, wrangler);
  const devVars = loadDevVars(abs, env);
  const queues = queuesConfig(wrangler);
  const workers = others.map((configPath): AuxiliaryWorker => {
    const wdir = dirname(configPath);
    const w = loadWranglerConfig(wdir, { env, configPath });
    return { dir: wdir, wrangler: w, devVars: loadDevVars(wdir, env), queues: queuesConfig(w) };
  });
  const names = new Map<string, string>([[wrangler.name, wrangler.configPath]]);
  for (const w of workers) {
    const first = names.get(w.wrangler.name);
    if (first !== undefined) {
      throw new ProjectError(
        `two Workers are named "${w.wrangler.name}" (${first} and ${w.wrangler.configPath}); each -c config needs its own name`,
        { file: basename(w.wrangler.configPath), field: "name" },
      );
    }
    names.set(w.wrangler.name, w.wrangler.configPath);
  }
  // A binding to another Worker's class needs that Worker to bind the class itself (its objects live there).
  const byName = new Map([wrangler, ...workers.map((w) => w.wrangler)].map((w) => [w.name, w]));
  for (const w of byName.values()) {
    for (const f of w.foreignDurableObjects) {
      const target = byName.get(f.scriptName);
      if (target && !target.durableObjects.some((b) => b.className === f.className)) {
        throw new ProjectError(
          `${f.binding}: the Worker ${f.scriptName} has no Durable Object binding for class ${f.className}; bind it there (with its migration)`,
          { file: basename(w.configPath), field: "durable_objects.bindings" },
        );
      }
    }
  }
  return {
    dir: abs,
    wrangler,
    terrarium,
    eventBusBinding: eventBusBinding(terrarium),
    devVars,
    env,
    varOverrides: { ...opts.vars },
    workers,
    queues,
    allQueues: projectQueues(queues, workers, wrangler.name),
  };
}
