/**
 * The control API's view of the project's other Workers (-c): their
 * Durable Objects, which live apart from the project's own under
 * `<data>/workers/<name>/`. Part of ControlApi (../contract.ts).
 */
import { z } from "zod";
import type { LifecycleState } from "../../shared/lifecycle-model.ts";

/** An object of another Worker, as its registry holds it. */
export interface WorkerObjectSummary {
  id: string;
  className: string;
  name: string | null;
  state: LifecycleState;
  requests: number;
  storageBytes: number;
  createdAt: number;
  lastActive: number;
  lastError: string | null;
}

/** Another Worker of the project with its Durable Objects. */
export interface WorkerObjects {
  worker: string;
  /** Its wrangler config, relative to the project. */
  configFile: string;
  /** Where its objects' SQLite files and registry live. */
  dataDir: string;
  classes: string[];
  objects: WorkerObjectSummary[];
}

export interface WorkersControlApi {
  /** The project's other Workers (-c) and their Durable Objects, most recently active first. */
  workerObjects(): Promise<WorkerObjects[]>;
}

export const workersCallSchemas = {
  workerObjects: z.tuple([]),
} as const;
