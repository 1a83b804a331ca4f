import { create } from "zustand";
import type { AnalyticsDatasetInfo, DataPoint, RateLimiterInfo } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The small bindings' store: the rate limiters with their counters, and the
// Analytics Engine datasets with the data points the code wrote (one
// dataset shown at a time, all of them until the user picks one).

export interface LimitsState {
  readonly limiters: readonly RateLimiterInfo[];
  readonly datasets: readonly AnalyticsDatasetInfo[];
  /** The binding whose data points are listed, or null for every dataset. */
  readonly dataset: string | null;
  readonly points: readonly DataPoint[];
  readonly error: string | null;
  readonly loadLimiters: () => Promise<void>;
  readonly loadAnalytics: () => Promise<void>;
  readonly chooseDataset: (binding: string | null) => void;
}

export const useLimitsStore = create<LimitsState>()((set, get) => ({
  limiters: [],
  datasets: [],
  dataset: null,
  points: [],
  error: null,
  loadLimiters: async () => {
    try {
      set({ limiters: await api().rateLimiters(), error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
  loadAnalytics: async () => {
    try {
      const binding = get().dataset;
      const [datasets, points] = await Promise.all([
        api().analyticsDatasets(),
        api().dataPoints({ limit: 500, ...(binding ? { binding } : {}) }),
      ]);
      if (get().dataset !== binding) return;
      set({ datasets, points, error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
  chooseDataset: (dataset) => {
    set({ dataset, points: [] });
    void get().loadAnalytics();
  },
}));
