import { create } from "zustand";
import type { DesignInfo, ProjectFile, UpdateResult } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The design store: the project's layout for the canvas, and the files open
// in the code editor (each one's text as saved and as edited, in tabs).

export interface OpenFile {
  readonly path: string;
  /** The text on disk when it was opened or last saved. */
  readonly saved: string;
  readonly text: string;
}

/** A refused build's error, where esbuild located it (the editor marks that line). */
export interface BuildError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/**
 * Files whose save makes the engine rebuild the project (and move live
 * objects to the new code, the Updating state): sources and the two config
 * files. Saving one of these first shows the change against the saved text.
 */
const RELOADS =
  /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$|(^|\/)(wrangler\.(jsonc?|toml)|terrarium\.json|\.dev\.vars)$/;

export function savingReloads(path: string): boolean {
  return RELOADS.test(path);
}

export interface DesignState {
  readonly design: DesignInfo | null;
  readonly files: readonly ProjectFile[];
  readonly selectedClass: string | null;
  /** The tabs of the editor, in the order they were opened. */
  readonly tabs: readonly OpenFile[];
  /** The file shown in the editor (one of the tabs), or null. */
  readonly path: string | null;
  /** The diff of the shown file against its saved text is on screen, waiting for the save to be confirmed. */
  readonly reviewing: boolean;
  readonly status: string | null;
  readonly error: string | null;
  /** The engine's last reload of the project's code, after a save here or an edit elsewhere. */
  readonly update: UpdateResult | null;
  readonly buildError: BuildError | null;
  readonly load: () => Promise<void>;
  readonly selectClass: (className: string | null) => Promise<void>;
  readonly openFile: (path: string) => Promise<void>;
  readonly closeFile: (path: string) => void;
  readonly setText: (text: string) => void;
  /** Saves the shown file; a file that reloads the project shows its diff first, and saves on the second call. */
  readonly save: () => Promise<void>;
  readonly cancelReview: () => void;
  readonly noteUpdate: (u: UpdateResult) => void;
}

const replaceTab = (tabs: readonly OpenFile[], file: OpenFile): OpenFile[] =>
  tabs.map((t) => (t.path === file.path ? file : t));

export function activeFile(s: Pick<DesignState, "tabs" | "path">): OpenFile | null {
  return s.tabs.find((t) => t.path === s.path) ?? null;
}

/** The message of a build error without the `file:line:column: ` the engine puts before it. */
function buildError(u: UpdateResult): BuildError | null {
  const at = u.location;
  if (u.ok || !at) return null;
  const prefix = `${at.file}:${at.line}:${at.column}: `;
  const error = u.error ?? "build failed";
  return { ...at, message: error.startsWith(prefix) ? error.slice(prefix.length) : error };
}

export const useDesignStore = create<DesignState>()((set, get) => ({
  design: null,
  files: [],
  selectedClass: null,
  tabs: [],
  path: null,
  reviewing: false,
  status: null,
  error: null,
  update: null,
  buildError: null,

  load: async () => {
    try {
      const [design, files] = await Promise.all([api().design(), api().listFiles()]);
      set({ design, files, error: null });
      if (get().path === null) {
        const first =
          design.classes.find((c) => c.sourceFile)?.sourceFile ?? design.main ?? design.configFile;
        await get().openFile(first);
        return;
      }
      // Open files may have changed on disk (another editor, an added class):
      // show what is there now, unless the user is editing them.
      for (const tab of get().tabs) {
        if (tab.text !== tab.saved) continue;
        const f = await api()
          .readFile(tab.path)
          .catch(() => null);
        const now = get().tabs.find((t) => t.path === tab.path);
        if (f && now && now.text === now.saved && f.text !== now.saved) {
          set({ tabs: replaceTab(get().tabs, { path: tab.path, saved: f.text, text: f.text }) });
        }
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
    if (get().tabs.some((t) => t.path === path)) {
      set({ path, reviewing: false, status: null });
      return;
    }
    try {
      const f = await api().readFile(path);
      if (!get().tabs.some((t) => t.path === f.path)) {
        set({ tabs: [...get().tabs, { path: f.path, saved: f.text, text: f.text }] });
      }
      set({ path: f.path, reviewing: false, status: null, error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  closeFile: (path) => {
    const tabs = get().tabs;
    const i = tabs.findIndex((t) => t.path === path);
    const tab = tabs[i];
    if (!tab) return;
    if (tab.text !== tab.saved && !window.confirm(`Discard unsaved changes to ${path}?`)) return;
    const rest = tabs.filter((t) => t.path !== path);
    const next = get().path === path ? (rest[Math.min(i, rest.length - 1)]?.path ?? null) : get().path;
    set({ tabs: rest, path: next, reviewing: false });
  },

  setText: (text) => {
    const file = activeFile(get());
    if (!file || file.text === text) return;
    set({ tabs: replaceTab(get().tabs, { ...file, text }), status: null });
  },

  save: async () => {
    const file = activeFile(get());
    if (!file || file.text === file.saved) return;
    if (savingReloads(file.path) && !get().reviewing) {
      set({ reviewing: true, status: null });
      return;
    }
    try {
      const written = await api().writeFile({ path: file.path, text: file.text });
      const now = get().tabs.find((t) => t.path === file.path);
      set({
        tabs: now ? replaceTab(get().tabs, { ...now, saved: file.text }) : get().tabs,
        reviewing: false,
        status: `Saved ${written.path} (${written.bytes.toLocaleString()} bytes)`,
        error: null,
        update: null,
      });
    } catch (e) {
      set({ error: errorText(e), reviewing: false });
    }
  },

  cancelReview: () => set({ reviewing: false }),

  noteUpdate: (update) => {
    set({ update, buildError: buildError(update) });
    if (update.ok) void get().load();
  },
}));
