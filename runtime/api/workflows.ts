import type { Engine } from "../engine.ts";
import { workflowSchemas, type WorkflowControlApi } from "./contract/workflows.ts";

/** The control API's Workflows methods, over the engine's Workflows (runtime/workflows). */
export function workflowMethods(engine: Engine): WorkflowControlApi {
  const known = (binding: string): string => {
    if (!engine.workflows.list().some((w) => w.binding === binding))
      throw new Error(`no workflow is bound to ${binding}`);
    return binding;
  };
  return {
    async workflows() {
      return engine.workflows.list();
    },
    async workflowInstances(q) {
      const p = workflowSchemas.instances.parse(q);
      return engine.workflows.instances(known(p.binding), p.limit);
    },
    async workflowInstance(q) {
      const p = workflowSchemas.instance.parse(q);
      return engine.workflows.instance(known(p.binding), p.id);
    },
    async workflowCreate(spec) {
      const p = workflowSchemas.create.parse(spec);
      const id = p.id ?? crypto.randomUUID();
      engine.workflows.create(known(p.binding), [{ id, params: p.params ?? {} }]);
      return { id };
    },
    async workflowControl(spec) {
      const p = workflowSchemas.control.parse(spec);
      const err = engine.workflows.control(known(p.binding), p.id, p.action);
      if (err) throw new Error(`${err.name}: ${err.message}`);
    },
    async dataPoints(q = {}) {
      return engine.dataPoints.list(workflowSchemas.dataPoints.parse(q));
    },
    async workflowEvent(spec) {
      const p = workflowSchemas.event.parse(spec);
      engine.workflows.sendEvent(known(p.binding), p.id, p.type, p.payload);
    },
  };
}
