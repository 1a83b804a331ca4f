import type { Engine } from "../engine.ts";
import type { ControlApi } from "./contract.ts";
import { queueSchemas } from "./contract.ts";

/** The control methods of the Queues Inspector; arguments parsed with the contract's schemas. */
export function queueMethods(engine: Engine): Pick<ControlApi, "queues" | "queueBatches"> {
  return {
    async queues() {
      return engine.queues.stats();
    },
    async queueBatches(q) {
      const p = queueSchemas.batches.parse(q);
      return engine.queues.batches(p.queue, p.limit);
    },
  };
}
