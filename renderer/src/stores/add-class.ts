import { create } from "zustand";
import type { AddClassResult, TemplateInfo } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";
import { useDesignStore } from "./design.ts";

// The add-object store: the templates on offer, the one picked, the names
// typed for it, and what adding it did.

export interface AddClassState {
  readonly open: boolean;
  readonly templates: readonly TemplateInfo[];
  readonly picked: string | null;
  readonly className: string;
  readonly binding: string;
  readonly adding: boolean;
  readonly result: AddClassResult | null;
  readonly error: string | null;
  readonly show: (open: boolean) => Promise<void>;
  readonly pick: (id: string) => void;
  readonly edit: (patch: Partial<Pick<AddClassState, "className" | "binding">>) => void;
  readonly add: () => Promise<void>;
}

/** A name not already taken: `Analytics`, then `Analytics2`, ... */
function free(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}${n}`)) n++;
  return `${base}${n}`;
}

export const useAddClassStore = create<AddClassState>()((set, get) => ({
  open: false,
  templates: [],
  picked: null,
  className: "",
  binding: "",
  adding: false,
  result: null,
  error: null,

  show: async (open) => {
    set({ open, result: null, error: null });
    if (!open || get().templates.length) return;
    try {
      set({ templates: await api().templates() });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  pick: (id) => {
    const t = get().templates.find((x) => x.id === id);
    if (!t) return;
    const design = useDesignStore.getState().design;
    const classes = new Set(design?.classes.map((c) => c.className) ?? []);
    const bindings = new Set([
      ...(design?.classes.flatMap((c) => c.bindings) ?? []),
      ...(design?.external.map((e) => e.binding) ?? []),
    ]);
    set({
      picked: id,
      className: free(t.className, classes),
      binding: free(t.binding, bindings),
      result: null,
      error: null,
    });
  },

  edit: (patch) => set(patch),

  add: async () => {
    const { picked, className, binding } = get();
    if (!picked) return;
    set({ adding: true, error: null, result: null });
    try {
      const result = await api().addClass({ template: picked, className, binding });
      set({ adding: false, result, picked: null });
      await useDesignStore.getState().load();
    } catch (e) {
      set({ adding: false, error: errorText(e) });
    }
  },
}));
