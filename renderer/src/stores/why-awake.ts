import { create } from "zustand";
import type { WakeReport, WhyAwake } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The why-awake store: for the object whose page is open, why it is not
// hibernating and when it will, asked again every 2 s while the page shows
// it, and the report of the last "hibernate now, then wake".

export interface WhyAwakeState {
  readonly id: string | null;
  readonly why: WhyAwake | null;
  /** This page's clock when `why` came: times in it count down from here (the engine's clock may differ). */
  readonly receivedAt: number;
  readonly error: string | null;
  readonly waking: boolean;
  readonly report: WakeReport | null;
  readonly wakeError: string | null;
  readonly load: (id: string) => Promise<void>;
  readonly hibernateAndWake: () => Promise<void>;
}

export const useWhyAwakeStore = create<WhyAwakeState>()((set, get) => ({
  id: null,
  why: null,
  receivedAt: 0,
  error: null,
  waking: false,
  report: null,
  wakeError: null,

  load: async (id) => {
    if (get().id !== id) set({ id, why: null, error: null, report: null, wakeError: null });
    try {
      const why = await api().whyAwake(id);
      if (get().id === id) set({ why, receivedAt: Date.now(), error: null });
    } catch (e) {
      if (get().id === id) set({ error: errorText(e) });
    }
  },

  hibernateAndWake: async () => {
    const id = get().id;
    if (!id || get().waking) return;
    set({ waking: true, wakeError: null, report: null });
    try {
      const report = await api().hibernateAndWake(id);
      if (get().id === id) set({ report });
    } catch (e) {
      if (get().id === id) set({ wakeError: errorText(e) });
    } finally {
      set({ waking: false });
      void get().load(id);
    }
  },
}));
