import { create } from "zustand";
import type { TraceDetail, TraceQuerySpec, TraceSummary } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The traces store: the latest traces matching the filters, and the one the
// user opened as a waterfall (docs/traces.md).

export interface TraceFilters {
  path: string;
  status: string;
  object: string;
}

export interface TracesState {
  readonly filters: TraceFilters;
  readonly traces: readonly TraceSummary[];
  readonly kept: number;
  readonly max: number;
  readonly sample: number;
  readonly selected: string | null;
  readonly detail: TraceDetail | null;
  readonly error: string | null;
  readonly setFilter: (key: keyof TraceFilters, value: string) => void;
  readonly load: () => Promise<void>;
  readonly open: (traceId: string | null) => Promise<void>;
}

function query(f: TraceFilters): TraceQuerySpec {
  const q: TraceQuerySpec = { limit: 200 };
  if (f.path.trim()) q.path = f.path.trim();
  if (f.status) q.status = f.status;
  if (f.object.trim()) q.object = f.object.trim();
  return q;
}

export const useTracesStore = create<TracesState>()((set, get) => ({
  filters: { path: "", status: "", object: "" },
  traces: [],
  kept: 0,
  max: 0,
  sample: 1,
  selected: null,
  detail: null,
  error: null,
  setFilter: (key, value) => {
    set({ filters: { ...get().filters, [key]: value } });
    void get().load();
  },
  load: async () => {
    try {
      const info = await api().traces(query(get().filters));
      set({ traces: info.traces, kept: info.kept, max: info.max, sample: info.sample, error: null });
      // The open trace grows while its deliveries run: read it again.
      const selected = get().selected;
      if (selected) set({ detail: await api().trace(selected) });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
  open: async (selected) => {
    set({ selected, detail: null });
    if (!selected) return;
    try {
      set({ detail: await api().trace(selected) });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
}));
