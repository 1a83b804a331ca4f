import type { Engine } from "../engine.ts";
import type { ControlApi } from "./contract.ts";
import { traceSchemas } from "./contract.ts";

type TraceMethods = Pick<ControlApi, "traces" | "trace" | "clearTraces">;

/** The control methods for traces across objects (docs/traces.md), their arguments parsed as in control-api.ts. */
export function traceTools(engine: Engine): TraceMethods {
  const store = engine.traces;
  return {
    async traces(query) {
      const q = traceSchemas.query.parse(query ?? {});
      return {
        traces: store.list(q),
        kept: store.count(),
        max: store.max,
        sample: engine.lifecycle.tracer ? store.sample : 0,
        perSecond: store.perSecond === Infinity ? null : store.perSecond,
      };
    },
    async trace(traceId) {
      return store.get(traceSchemas.traceId.parse(traceId));
    },
    async clearTraces() {
      const n = store.count();
      store.clear();
      return n;
    },
  };
}
