import { create, type StateCreator } from "zustand";

// The UI store: what the user is looking at. Engine state (objects, metrics,
// transitions) lives in stores of its own.

export const TABS = ["design", "console", "inspector"] as const;
export type Tab = (typeof TABS)[number];

export interface TabSlice {
  readonly tab: Tab;
  readonly selectTab: (tab: Tab) => void;
}

export type UiState = TabSlice;

const createTabSlice: StateCreator<UiState, [], [], TabSlice> = (set) => ({
  tab: "design",
  selectTab: (tab) => set({ tab }),
});

export const useUiStore = create<UiState>()((...a) => ({
  ...createTabSlice(...a),
}));
