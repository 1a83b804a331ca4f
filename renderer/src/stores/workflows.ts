import { create } from "zustand";
import type {
  InstanceDetail,
  InstanceSummary,
  WorkflowControlSpec,
  WorkflowSummary,
} from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The Workflows store: the project's workflows, the chosen one's instances,
// and one instance opened with its timeline of steps. Polled while the page
// is open (instances move on their own: sleeps end, retries come).

export interface WorkflowsState {
  readonly workflows: readonly WorkflowSummary[];
  readonly binding: string | null;
  readonly instances: readonly InstanceSummary[];
  readonly opened: InstanceDetail | null;
  readonly openedId: string | null;
  readonly error: string | null;
  readonly load: () => Promise<void>;
  readonly choose: (binding: string) => void;
  readonly open: (id: string | null) => Promise<void>;
  readonly create: (params: unknown, id?: string) => Promise<void>;
  readonly control: (action: WorkflowControlSpec["action"]) => Promise<void>;
  readonly sendEvent: (type: string, payload: unknown) => Promise<void>;
}

export const useWorkflowsStore = create<WorkflowsState>()((set, get) => ({
  workflows: [],
  binding: null,
  instances: [],
  opened: null,
  openedId: null,
  error: null,

  load: async () => {
    try {
      const workflows = await api().workflows();
      const current = get().binding;
      const binding =
        current && workflows.some((w) => w.binding === current) ? current : (workflows[0]?.binding ?? null);
      set({ workflows, binding });
      if (!binding) return;
      const instances = await api().workflowInstances({ binding, limit: 200 });
      const openedId = get().openedId;
      const opened = openedId ? await api().workflowInstance({ binding, id: openedId }) : null;
      if (get().binding !== binding) return;
      set({ instances, opened, error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  choose: (binding) => {
    set({ binding, instances: [], opened: null, openedId: null, error: null });
    void get().load();
  },

  open: async (id) => {
    const binding = get().binding;
    set({ openedId: id, opened: null });
    if (!binding || id === null) return;
    try {
      const opened = await api().workflowInstance({ binding, id });
      if (get().openedId === id) set({ opened });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  create: async (params, id) => {
    const binding = get().binding;
    if (!binding) return;
    try {
      const made = await api().workflowCreate({ binding, params, ...(id ? { id } : {}) });
      set({ openedId: made.id });
      await get().load();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  control: async (action) => {
    const { binding, openedId } = get();
    if (!binding || !openedId) return;
    try {
      await api().workflowControl({ binding, id: openedId, action });
      await get().load();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  sendEvent: async (type, payload) => {
    const { binding, openedId } = get();
    if (!binding || !openedId) return;
    try {
      await api().workflowEvent({ binding, id: openedId, type, payload });
      await get().load();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
}));
