import { resolve } from "node:path";
import { loadDevVars, type DevVars } from "./dev-vars.ts";
import { queuesConfig, type QueuesConfig } from "./queues.ts";
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
}

/** Loads and validates a project folder; throws ProjectError and starts nothing on bad input. */
export function loadProject(dir: string): Project {
  const abs = resolve(dir);
  const wrangler = loadWranglerConfig(abs);
  const terrarium = loadTerrariumConfig(abs, wrangler);
  const devVars = loadDevVars(abs);
  const queues = queuesConfig(wrangler);
  return { dir: abs, wrangler, terrarium, eventBusBinding: eventBusBinding(terrarium), devVars, queues };
}
