import { create, type StateCreator } from "zustand";

// The UI store: what the user is looking at. Engine state (objects, metrics,
// transitions) lives in stores of its own.

export const TABS = ["design", "console", "inspector", "export"] as const;
export type Tab = (typeof TABS)[number];

export type InspectorSection =
  | "objects"
  | "traces"
  | "events"
  | "queues"
  | "database"
  | "bucket"
  | "kv"
  | "ratelimits"
  | "analytics"
  | "mocks"
  | "workflows"
  | "email";
export type ConsoleSection = "http" | "websocket" | "load";
export type ObjectPanel =
  "lifecycle" | "storage" | "snapshots" | "sockets" | "events" | "request" | "alarms" | "logs";

export interface TabSlice {
  readonly tab: Tab;
  readonly selectTab: (tab: Tab) => void;
}

export interface InspectorSlice {
  readonly inspectorSection: InspectorSection;
  /** The object whose page is open in the Inspector, or null for the table. */
  readonly selectedObject: string | null;
  readonly objectPanel: ObjectPanel;
  readonly showSection: (s: InspectorSection) => void;
  readonly openObject: (id: string | null) => void;
  readonly showPanel: (p: ObjectPanel) => void;
}

export interface ConsoleSlice {
  readonly consoleSection: ConsoleSection;
  readonly showConsoleSection: (s: ConsoleSection) => void;
}

export type UiState = TabSlice & InspectorSlice & ConsoleSlice;

const createTabSlice: StateCreator<UiState, [], [], TabSlice> = (set) => ({
  tab: "design",
  selectTab: (tab) => set({ tab }),
});

const createInspectorSlice: StateCreator<UiState, [], [], InspectorSlice> = (set) => ({
  inspectorSection: "objects",
  selectedObject: null,
  objectPanel: "lifecycle",
  showSection: (inspectorSection) => set({ inspectorSection, selectedObject: null }),
  openObject: (selectedObject) =>
    set(
      selectedObject ? { selectedObject, tab: "inspector", inspectorSection: "objects" } : { selectedObject },
    ),
  showPanel: (objectPanel) => set({ objectPanel }),
});

const createConsoleSlice: StateCreator<UiState, [], [], ConsoleSlice> = (set) => ({
  consoleSection: "http",
  showConsoleSection: (consoleSection) => set({ consoleSection }),
});

export const useUiStore = create<UiState>()((...a) => ({
  ...createTabSlice(...a),
  ...createInspectorSlice(...a),
  ...createConsoleSlice(...a),
}));
