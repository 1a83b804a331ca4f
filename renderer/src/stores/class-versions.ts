import { create } from "zustand";
import type { ClassVersionsInfo } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";
import { useDesignStore } from "./design.ts";

// The class-versions store: the history of the class selected in the Design
// view, a version's source shown beside it, and rolling back to one.

export interface ClassVersionsState {
  readonly className: string | null;
  readonly info: ClassVersionsInfo | null;
  /** The version whose source is shown, and its text. */
  readonly shown: { readonly hash: string; readonly text: string } | null;
  /** The row of the history the source is shown for (a version can come back, and be listed twice). */
  readonly shownRow: number | null;
  readonly busy: string | null;
  readonly error: string | null;
  readonly notice: string | null;
  readonly open: (className: string | null) => Promise<void>;
  readonly load: () => Promise<void>;
  readonly show: (hash: string | null, row?: number) => Promise<void>;
  readonly rollback: (hash: string) => Promise<void>;
}

export const useClassVersionsStore = create<ClassVersionsState>()((set, get) => ({
  className: null,
  info: null,
  shown: null,
  shownRow: null,
  busy: null,
  error: null,
  notice: null,

  open: async (className) => {
    if (className === get().className) return get().load();
    set({ className, info: null, shown: null, shownRow: null, busy: null, error: null, notice: null });
    await get().load();
  },

  load: async () => {
    const className = get().className;
    if (!className) return;
    try {
      const info = await api().classVersions(className);
      if (get().className === className) set({ info, error: null });
    } catch (e) {
      if (get().className === className) set({ error: errorText(e) });
    }
  },

  show: async (hash, row) => {
    const className = get().className;
    if (!className || hash === null) {
      set({ shown: null, shownRow: null });
      return;
    }
    try {
      const text = await api().classVersionText({ className, hash });
      if (get().className === className) set({ shown: { hash, text }, shownRow: row ?? null, error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  rollback: async (hash) => {
    const className = get().className;
    if (!className || get().busy) return;
    set({ busy: `Rolling ${className} back to ${hash.slice(0, 8)}…`, error: null, notice: null });
    try {
      const r = await api().rollbackClass({ className, hash });
      if (get().className === className)
        set({
          notice: `${className} runs ${hash.slice(0, 8)} now (${r.file}); ${r.updated} live object${r.updated === 1 ? "" : "s"} moved to it.`,
        });
      // The editor shows the file as it is on disk now.
      await Promise.all([get().load(), useDesignStore.getState().load()]);
    } catch (e) {
      if (get().className === className) set({ error: errorText(e) });
    } finally {
      if (get().className === className) set({ busy: null });
    }
  },
}));
