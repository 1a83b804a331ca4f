import { create } from "zustand";
import type { CostInfo } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The cost store: the estimate the Console shows beside a saved run, for the
// run or for all the traffic since the project started.

export type CostScope = "run" | "project";

export interface CostState {
  readonly runId: string | null;
  readonly scope: CostScope;
  readonly estimate: CostInfo | null;
  readonly error: string | null;
  readonly load: (runId: string, scope?: CostScope) => Promise<void>;
}

export const useCostStore = create<CostState>()((set, get) => ({
  runId: null,
  scope: "run",
  estimate: null,
  error: null,
  load: async (runId, scope = get().scope) => {
    set({
      runId,
      scope,
      error: null,
      ...(get().runId !== runId || get().scope !== scope ? { estimate: null } : {}),
    });
    try {
      const estimate = await api().costEstimate(scope === "run" ? { runId } : {});
      if (get().runId === runId && get().scope === scope) set({ estimate });
    } catch (e) {
      if (get().runId === runId && get().scope === scope) set({ error: errorText(e) });
    }
  },
}));
