import { create } from "zustand";
import type {
  InstanceDetail,
  InstanceSummary,
  WorkerWorkflowSummary,
  WorkflowControlSpec,
} from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The Workflows store: every Worker's workflows, the chosen one's instances,
// and one instance opened with its timeline of steps. Polled while the page
// is open (instances move on their own: sleeps end, retries come). A
// workflow is chosen by its Worker and binding (two Workers may both bind
// WORKFLOW).

export interface WorkflowsState {
  readonly workflows: readonly WorkerWorkflowSummary[];
  /** The Worker of the chosen workflow (with `binding`). */
  readonly worker: string | null;
  readonly binding: string | null;
  readonly instances: readonly InstanceSummary[];
  readonly opened: InstanceDetail | null;
  readonly openedId: string | null;
  readonly error: string | null;
  readonly load: () => Promise<void>;
  readonly choose: (worker: string, binding: string) => void;
  readonly open: (id: string | null) => Promise<void>;
  readonly create: (params: unknown, id?: string) => Promise<void>;
  readonly control: (action: WorkflowControlSpec["action"]) => Promise<void>;
  readonly sendEvent: (type: string, payload: unknown) => Promise<void>;
}

/** The chosen workflow as the control API's calls name it. */
function target(s: WorkflowsState): { worker: string; binding: string } | null {
  return s.worker !== null && s.binding !== null ? { worker: s.worker, binding: s.binding } : null;
}

export const useWorkflowsStore = create<WorkflowsState>()((set, get) => ({
  workflows: [],
  worker: null,
  binding: null,
  instances: [],
  opened: null,
  openedId: null,
  error: null,

  load: async () => {
    try {
      const workflows = await api().workflows();
      const { worker: w, binding: b } = get();
      const chosen = workflows.find((x) => x.worker === w && x.binding === b) ?? workflows[0] ?? null;
      const worker = chosen?.worker ?? null;
      const binding = chosen?.binding ?? null;
      set({ workflows, worker, binding });
      if (worker === null || binding === null) return;
      const instances = await api().workflowInstances({ worker, binding, limit: 200 });
      const openedId = get().openedId;
      const opened = openedId ? await api().workflowInstance({ worker, binding, id: openedId }) : null;
      if (get().binding !== binding || get().worker !== worker) return;
      set({ instances, opened, error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  choose: (worker, binding) => {
    set({ worker, binding, instances: [], opened: null, openedId: null, error: null });
    void get().load();
  },

  open: async (id) => {
    const t = target(get());
    set({ openedId: id, opened: null });
    if (!t || id === null) return;
    try {
      const opened = await api().workflowInstance({ ...t, id });
      if (get().openedId === id) set({ opened });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  create: async (params, id) => {
    const t = target(get());
    if (!t) return;
    try {
      const made = await api().workflowCreate({ ...t, params, ...(id ? { id } : {}) });
      set({ openedId: made.id });
      await get().load();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  control: async (action) => {
    const t = target(get());
    const openedId = get().openedId;
    if (!t || !openedId) return;
    try {
      await api().workflowControl({ ...t, id: openedId, action });
      await get().load();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  sendEvent: async (type, payload) => {
    const t = target(get());
    const openedId = get().openedId;
    if (!t || !openedId) return;
    try {
      await api().workflowEvent({ ...t, id: openedId, type, payload });
      await get().load();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
}));
