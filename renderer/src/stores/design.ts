import { create } from "zustand";
import type { DesignInfo, ProjectFile, UpdateResult } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The design store: the project's layout for the canvas, and the file open
// in the code editor (its text as saved and as edited).

export interface DesignState {
  readonly design: DesignInfo | null;
  readonly files: readonly ProjectFile[];
  readonly selectedClass: string | null;
  readonly path: string | null;
  readonly saved: string;
  readonly text: string;
  readonly status: string | null;
  readonly error: string | null;
  /** The engine's last reload of the project's code, after a save here or an edit elsewhere. */
  readonly update: UpdateResult | null;
  readonly load: () => Promise<void>;
  readonly selectClass: (className: string | null) => Promise<void>;
  readonly openFile: (path: string) => Promise<void>;
  readonly setText: (text: string) => void;
  readonly save: () => Promise<void>;
  readonly noteUpdate: (u: UpdateResult) => void;
}

export const useDesignStore = create<DesignState>()((set, get) => ({
  design: null,
  files: [],
  selectedClass: null,
  path: null,
  saved: "",
  text: "",
  status: null,
  error: null,
  update: null,

  load: async () => {
    try {
      const [design, files] = await Promise.all([api().design(), api().listFiles()]);
      set({ design, files, error: null });
      const path = get().path;
      if (path === null) {
        const first =
          design.classes.find((c) => c.sourceFile)?.sourceFile ?? design.main ?? design.configFile;
        await get().openFile(first);
      } else if (get().text === get().saved) {
        // The file may have changed on disk (another editor, an added class):
        // show what is there now, unless the user is editing it.
        const f = await api().readFile(path);
        if (get().path === path && get().text === get().saved) set({ saved: f.text, text: f.text });
      }
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  selectClass: async (className) => {
    set({ selectedClass: className });
    const file = get().design?.classes.find((c) => c.className === className)?.sourceFile;
    if (file && file !== get().path) await get().openFile(file);
  },

  openFile: async (path) => {
    if (get().text !== get().saved && !window.confirm(`Discard unsaved changes to ${get().path}?`)) return;
    try {
      const f = await api().readFile(path);
      set({ path: f.path, saved: f.text, text: f.text, status: null, error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  setText: (text) => set({ text, status: null }),

  save: async () => {
    const { path, text } = get();
    if (!path) return;
    try {
      const f = await api().writeFile({ path, text });
      set({
        saved: text,
        status: `Saved ${f.path} (${f.bytes.toLocaleString()} bytes)`,
        error: null,
        update: null,
      });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  noteUpdate: (update) => {
    set({ update });
    if (update.ok) void get().load();
  },
}));
