import { create } from "zustand";
import type { WorkerObjects } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The other Workers' objects (a project run with several -c configs): their
// Durable Objects live in each Worker's own registry, under
// <data>/workers/<name>/, so the Inspector lists them apart.

export interface WorkerObjectsState {
  readonly workers: readonly WorkerObjects[];
  readonly error: string | null;
  readonly load: () => Promise<void>;
}

export const useWorkerObjectsStore = create<WorkerObjectsState>()((set) => ({
  workers: [],
  error: null,
  load: async () => {
    try {
      set({ workers: await api().workerObjects(), error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
}));
