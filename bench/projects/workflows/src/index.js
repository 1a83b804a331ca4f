// The Workflows benchmark's project (plain JavaScript: bench/ is type-checked
// against Node's types, which have no `cloudflare:workers`).
import { WorkflowEntrypoint } from "cloudflare:workers";

export class ManySteps extends WorkflowEntrypoint {
  async run(event, step) {
    let total = 0;
    for (let i = 0; i < event.payload.steps; i++) total += await step.do(`step ${i}`, async () => i);
    if (event.payload.wait) await step.waitForEvent("go", { type: "go" });
    return total;
  }
}

export default {
  fetch: () => new Response("bench"),
};
