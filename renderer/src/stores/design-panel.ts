import { create } from "zustand";
import type { DesignInfo, SettingsSpec } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";
import { useDesignStore } from "./design.ts";
import { useObjectsStore } from "./objects.ts";

// The Design view's side panel: the selected class (rename, delete, kind,
// notes, timeouts), the project's routes and subscriptions, and the
// project-wide timeouts. Edits are drafts until saved; every save writes
// the project's files through the control API and reloads the design.

export interface RouteDraft {
  pattern: string;
  /** Comma-separated methods; empty for any. */
  method: string;
  binding: string;
  object: string;
}

export interface SubscriptionDraft {
  topic: string;
  binding: string;
  object: string;
  method: string;
}

export type PanelTab = "class" | "routes" | "timeouts";

export interface DesignPanelState {
  readonly tab: PanelTab;
  readonly routes: readonly RouteDraft[];
  readonly subscriptions: readonly SubscriptionDraft[];
  /** True once the user changed the routes or subscriptions since they were loaded. */
  readonly dirty: boolean;
  readonly busy: boolean;
  readonly message: string | null;
  readonly error: string | null;
  readonly setTab: (tab: PanelTab) => void;
  /** Takes the routes and subscriptions from a freshly loaded design, unless the user is editing them. */
  readonly sync: (design: DesignInfo) => void;
  readonly editRoute: (i: number, patch: Partial<RouteDraft>) => void;
  readonly addRoute: (binding: string) => void;
  readonly removeRoute: (i: number) => void;
  readonly editSubscription: (i: number, patch: Partial<SubscriptionDraft>) => void;
  readonly addSubscription: (binding: string) => void;
  readonly removeSubscription: (i: number) => void;
  readonly saveTopology: () => Promise<void>;
  readonly saveSettings: (spec: SettingsSpec, what: string) => Promise<boolean>;
  readonly renameClass: (from: string, to: string) => Promise<boolean>;
  readonly deleteClass: (className: string) => Promise<boolean>;
}

function drafts(design: DesignInfo): Pick<DesignPanelState, "routes" | "subscriptions"> {
  return {
    routes: design.routes.map((r) => ({
      pattern: r.pattern,
      method: (r.method ?? []).join(", "),
      binding: r.binding,
      object: r.object,
    })),
    subscriptions: design.subscriptions.map((s) => ({ ...s })),
  };
}

async function refresh(): Promise<void> {
  await useDesignStore.getState().load();
  await useObjectsStore.getState().load();
}

export const useDesignPanelStore = create<DesignPanelState>()((set, get) => ({
  tab: "routes",
  routes: [],
  subscriptions: [],
  dirty: false,
  busy: false,
  message: null,
  error: null,

  setTab: (tab) => {
    if (tab !== get().tab) set({ tab, message: null, error: null });
  },

  sync: (design) => {
    if (!get().dirty) set(drafts(design));
  },

  editRoute: (i, patch) =>
    set((s) => ({ routes: s.routes.map((r, j) => (j === i ? { ...r, ...patch } : r)), dirty: true })),
  addRoute: (binding) =>
    set((s) => ({
      routes: [...s.routes, { pattern: "/new/:name", method: "", binding, object: "{name}" }],
      dirty: true,
    })),
  removeRoute: (i) => set((s) => ({ routes: s.routes.filter((_, j) => j !== i), dirty: true })),
  editSubscription: (i, patch) =>
    set((s) => ({
      subscriptions: s.subscriptions.map((x, j) => (j === i ? { ...x, ...patch } : x)),
      dirty: true,
    })),
  addSubscription: (binding) =>
    set((s) => ({
      subscriptions: [
        ...s.subscriptions,
        { topic: "topic.name", binding, object: "main", method: "onEvent" },
      ],
      dirty: true,
    })),
  removeSubscription: (i) =>
    set((s) => ({ subscriptions: s.subscriptions.filter((_, j) => j !== i), dirty: true })),

  saveTopology: async () => {
    const { routes, subscriptions } = get();
    const spec: SettingsSpec = {
      routes: routes.map((r) => {
        const methods = r.method
          .split(",")
          .map((m) => m.trim().toUpperCase())
          .filter((m) => m !== "");
        const out: Record<string, unknown> = {
          pattern: r.pattern.trim(),
          binding: r.binding,
          object: r.object,
        };
        if (methods.length === 1) out.method = methods[0];
        else if (methods.length > 1) out.method = methods;
        return out;
      }),
      subscriptions: subscriptions.map((s) => ({
        topic: s.topic.trim(),
        binding: s.binding,
        object: s.object,
        method: s.method.trim(),
      })),
    };
    if (await get().saveSettings(spec, "routes and subscriptions")) set({ dirty: false });
    const design = useDesignStore.getState().design;
    if (design && !get().dirty) set(drafts(design));
  },

  saveSettings: async (spec, what) => {
    set({ busy: true, message: null, error: null });
    try {
      await api().saveSettings(spec);
      set({ busy: false, message: `Saved ${what} to terrarium.json; the engine applied them.` });
      await refresh();
      return true;
    } catch (e) {
      set({ busy: false, error: errorText(e) });
      return false;
    }
  },

  renameClass: async (from, to) => {
    set({ busy: true, message: null, error: null });
    try {
      const r = await api().renameClass({ from, to });
      set({
        busy: false,
        message:
          `Renamed ${from} to ${to}: ${r.files.join(", ")} changed; ` +
          (r.objects === 1
            ? "1 object moved with its storage."
            : `${r.objects} objects moved with their storage.`) +
          (r.notes.length ? ` ${r.notes.join(" ")}` : ""),
      });
      await refresh();
      await useDesignStore.getState().selectClass(to);
      return true;
    } catch (e) {
      set({ busy: false, error: errorText(e) });
      return false;
    }
  },

  deleteClass: async (className) => {
    set({ busy: true, message: null, error: null });
    try {
      const r = await api().deleteClass({ className });
      set({
        busy: false,
        message:
          `Deleted ${className}: ${r.files.join(", ")} changed; ${r.objects} object${r.objects === 1 ? "" : "s"} deleted.` +
          (r.notes.length ? ` ${r.notes.join(" ")}` : ""),
      });
      await useDesignStore.getState().selectClass(null);
      await refresh();
      return true;
    } catch (e) {
      set({ busy: false, error: errorText(e) });
      return false;
    }
  },
}));
