import type { Engine } from "../engine.ts";
import type { ControlApi } from "./contract.ts";
import { emailSchemas, queueSchemas } from "./contract.ts";

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

/** The control methods of the Inspector's Email page: the send_email outbox. */
export function emailMethods(engine: Engine): Pick<ControlApi, "emails" | "email"> {
  return {
    async emails(q = {}) {
      return engine.outbox.list(emailSchemas.list.parse(q).limit);
    },
    async email(q) {
      return engine.outbox.get(emailSchemas.one.parse(q).seq);
    },
  };
}
