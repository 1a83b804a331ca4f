import { basename } from "node:path";
import { ProjectError } from "./errors.ts";
import type { WranglerProject } from "./wrangler.ts";

/** A `workflows` entry: the binding in `env`, the workflow's name, the class it runs. */
export interface WorkflowBindingConfig {
  binding: string;
  name: string;
  className: string;
}

/**
 * The project's Workflows (wrangler's `workflows`), checked: each class in
 * this Worker (a `script_name` pointing at another Worker is refused), each
 * binding and each name once.
 */
export function workflowBindings(w: WranglerProject): WorkflowBindingConfig[] {
  const file = basename(w.configPath);
  const out: WorkflowBindingConfig[] = [];
  (w.raw.workflows ?? []).forEach((wf, i) => {
    if (wf.script_name !== undefined && wf.script_name !== w.name) {
      throw new ProjectError("a Workflow whose class is in another Worker is not supported yet", {
        file,
        field: `workflows[${i}].script_name`,
      });
    }
    if (out.some((o) => o.binding === wf.binding) || w.durableObjects.some((d) => d.binding === wf.binding)) {
      throw new ProjectError(`binding ${wf.binding} is declared twice`, {
        file,
        field: `workflows[${i}].binding`,
      });
    }
    if (out.some((o) => o.name === wf.name)) {
      throw new ProjectError(`workflow ${wf.name} is declared twice`, {
        file,
        field: `workflows[${i}].name`,
      });
    }
    out.push({ binding: wf.binding, name: wf.name, className: wf.class_name });
  });
  return out;
}
