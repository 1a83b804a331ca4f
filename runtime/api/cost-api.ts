import type { Engine } from "../engine.ts";
import { estimateCost } from "../load/cost.ts";
import type { ControlApi } from "./contract.ts";
import { costSchemas } from "./contract.ts";

/**
 * The cost of a run on Cloudflare, or of the traffic since the project
 * started, as a monthly estimate at that rate (runtime/load/cost.ts).
 */
export function costTools(engine: Engine): Pick<ControlApi, "costEstimate"> {
  const storage = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of engine.registry.objects()) out[r.className] = (out[r.className] ?? 0) + r.storageBytes;
    return out;
  };
  return {
    async costEstimate(q = {}) {
      const { runId } = costSchemas.estimate.parse(q);
      if (runId === undefined) {
        const s = engine.usage.snapshot();
        return {
          scope: "project",
          runId: null,
          since: s.since,
          ...estimateCost({ windowMs: s.at - s.since, byClass: s.byClass, storageBytes: storage() }),
        };
      }
      const run = await engine.api.getRun(runId);
      if (!run) throw new Error(`no load run ${runId}`);
      if (!run.usage)
        throw new Error(
          `the run ${runId} was not measured by this engine (it loaded a server with --url, or was saved before costs were kept)`,
        );
      return {
        scope: "run",
        runId,
        since: run.startedAt,
        ...estimateCost({
          windowMs: run.usage.windowMs,
          byClass: run.usage.byClass,
          storageBytes: storage(),
        }),
      };
    },
  };
}
