import type { Engine } from "../engine.ts";
import type { Workflows } from "../workflows/workflows.ts";
import { workflowSchemas, type WorkflowControlApi } from "./contract/workflows.ts";

/**
 * The control API's Workflows methods, over the Workflows of every Worker
 * the engine runs (runtime/workflows): the project's own, and each other
 * Worker's (`-c`), whose instances are kept in its own data folder.
 */
export function workflowMethods(engine: Engine): WorkflowControlApi {
  const all = (): { worker: string; workflows: Workflows }[] => [
    { worker: engine.project.wrangler.name, workflows: engine.workflows },
    ...engine.otherWorkers.map((w) => ({ worker: w.name, workflows: w.workflows })),
  ];
  /** The Workflows of `worker` (absent: the project's own) that bind `binding`. */
  const known = (worker: string | undefined, binding: string): Workflows => {
    const run = worker === undefined ? all()[0]! : all().find((w) => w.worker === worker);
    if (!run) throw new Error(`no Worker named ${worker} runs in this project`);
    if (!run.workflows.list().some((w) => w.binding === binding))
      throw new Error(
        worker === undefined
          ? `no workflow is bound to ${binding}`
          : `no workflow is bound to ${binding} in Worker ${worker}`,
      );
    return run.workflows;
  };
  return {
    async workflows() {
      return all().flatMap(({ worker, workflows }) => workflows.list().map((w) => ({ ...w, worker })));
    },
    async workflowInstances(q) {
      const p = workflowSchemas.instances.parse(q);
      return known(p.worker, p.binding).instances(p.binding, p.limit);
    },
    async workflowInstance(q) {
      const p = workflowSchemas.instance.parse(q);
      return known(p.worker, p.binding).instance(p.binding, p.id);
    },
    async workflowCreate(spec) {
      const p = workflowSchemas.create.parse(spec);
      const id = p.id ?? crypto.randomUUID();
      known(p.worker, p.binding).create(p.binding, [{ id, params: p.params ?? {} }]);
      return { id };
    },
    async workflowControl(spec) {
      const p = workflowSchemas.control.parse(spec);
      const err = known(p.worker, p.binding).control(p.binding, p.id, p.action);
      if (err) throw new Error(`${err.name}: ${err.message}`);
    },
    async dataPoints(q = {}) {
      return engine.dataPoints.list(workflowSchemas.dataPoints.parse(q));
    },
    async workflowEvent(spec) {
      const p = workflowSchemas.event.parse(spec);
      known(p.worker, p.binding).sendEvent(p.binding, p.id, p.type, p.payload);
    },
  };
}
