import { relative, sep } from "node:path";
import type { Engine } from "../engine.ts";
import type { WorkersControlApi } from "./contract/workers.ts";

/** The control API's view of the project's other Workers (-c) and their Durable Objects. */
export function workersMethods(engine: Engine): WorkersControlApi {
  return {
    async workerObjects() {
      return engine.otherWorkers.map((w) => ({
        worker: w.name,
        configFile: relative(engine.project.dir, w.configPath).split(sep).join("/"),
        dataDir: w.dataDir,
        classes: w.registry.classes().map((c) => c.className),
        objects: [...w.registry.objects()]
          .sort((a, b) => b.lastActive - a.lastActive || a.id.localeCompare(b.id))
          .map((r) => ({
            id: r.id,
            className: r.className,
            name: r.name,
            state: r.state,
            requests: r.requests,
            storageBytes: r.storageBytes,
            createdAt: r.createdAt,
            lastActive: r.lastActive,
            lastError: r.lastError,
          })),
      }));
    },
  };
}
