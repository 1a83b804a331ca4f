import { create } from "zustand";
import type {
  HistoryEntry,
  HttpRequestSpec,
  HttpResult,
  SavedRequest,
} from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";
import { defaultDraft, type Draft, type HeaderRow } from "./console-draft.ts";

// The console store: the request being composed, the last response, and the
// history and saved requests the engine keeps on disk for this project.

export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

export interface ConsoleState {
  readonly draft: Draft;
  /** The user has changed the draft (or opened one): a default no longer replaces it. */
  readonly touched: boolean;
  readonly sending: boolean;
  readonly response: HttpResult | null;
  readonly error: string | null;
  readonly history: readonly HistoryEntry[];
  readonly saved: readonly SavedRequest[];
  /** The saved request the draft was loaded from (or last saved as), if any. */
  readonly savedId: string | null;
  readonly edit: (patch: Partial<Draft>) => void;
  readonly setHeader: (i: number, patch: Partial<HeaderRow>) => void;
  readonly addHeader: () => void;
  readonly removeHeader: (i: number) => void;
  readonly send: () => Promise<void>;
  readonly loadHistory: () => Promise<void>;
  readonly clearHistory: () => Promise<void>;
  readonly restore: (entry: HistoryEntry) => void;
  readonly loadSaved: () => Promise<void>;
  /** Saves the draft under a name (replacing a request saved under it); false when refused. */
  readonly saveDraft: (name: string) => Promise<boolean>;
  readonly openSaved: (saved: SavedRequest) => void;
  readonly renameSaved: (id: string, name: string) => Promise<boolean>;
  readonly deleteSaved: (id: string) => Promise<void>;
  /** Puts the project's own default request in the composer, unless the user has changed it. */
  readonly suggestDefault: () => Promise<void>;
}

function draftOf(request: HttpRequestSpec): Draft {
  return {
    method: request.method,
    path: request.path,
    headers: (request.headers ?? []).map(([key, value]) => ({ key, value, enabled: true })),
    body: request.body ?? "",
  };
}

/** The request a draft describes: enabled headers with a name, a body only when there is one. */
export function specOf(d: Draft): HttpRequestSpec {
  const path = d.path.startsWith("/") ? d.path : `/${d.path}`;
  const headers = d.headers
    .filter((h) => h.enabled && h.key.trim())
    .map((h) => [h.key.trim(), h.value] as [string, string]);
  const withBody = d.body !== "" && d.method !== "GET" && d.method !== "HEAD";
  return {
    method: d.method,
    path,
    ...(headers.length ? { headers } : {}),
    ...(withBody ? { body: d.body } : {}),
  };
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The same request as a curl command line against the project's router. */
export function curlOf(spec: HttpRequestSpec, base: string): string {
  const parts = ["curl", "-i"];
  if (spec.method !== "GET") parts.push("-X", spec.method);
  parts.push(quote(new URL(spec.path, base).href));
  for (const [k, v] of spec.headers ?? []) parts.push("-H", quote(`${k}: ${v}`));
  if (spec.body !== undefined) parts.push("--data-raw", quote(spec.body));
  return parts.join(" ");
}

export const useConsoleStore = create<ConsoleState>()((set, get) => ({
  draft: defaultDraft([]),
  touched: false,
  sending: false,
  response: null,
  error: null,
  history: [],
  saved: [],
  savedId: null,

  edit: (patch) => set((s) => ({ draft: { ...s.draft, ...patch }, touched: true })),
  setHeader: (i, patch) =>
    set((s) => ({
      touched: true,
      draft: { ...s.draft, headers: s.draft.headers.map((h, j) => (j === i ? { ...h, ...patch } : h)) },
    })),
  addHeader: () =>
    set((s) => ({
      touched: true,
      draft: { ...s.draft, headers: [...s.draft.headers, { key: "", value: "", enabled: true }] },
    })),
  removeHeader: (i) =>
    set((s) => ({
      touched: true,
      draft: { ...s.draft, headers: s.draft.headers.filter((_, j) => j !== i) },
    })),

  send: async () => {
    const request = specOf(get().draft);
    set({ sending: true, error: null });
    try {
      const response = await api().sendRequest(request);
      set({ response, sending: false });
      const entry = await api().addRequestHistory({
        time: Date.now(),
        request,
        status: response.status,
        durationMs: response.durationMs,
      });
      set((s) => ({ history: [entry, ...s.history].slice(0, 200) }));
    } catch (e) {
      set({ error: errorText(e), sending: false });
    }
  },

  loadHistory: async () => {
    try {
      set({ history: await api().requestHistory() });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  clearHistory: async () => {
    await api().clearRequestHistory();
    set({ history: [] });
  },

  restore: (entry) => set({ draft: draftOf(entry.request), savedId: null, touched: true }),

  loadSaved: async () => {
    try {
      set({ saved: await api().savedRequests() });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  saveDraft: async (name) => {
    try {
      const saved = await api().saveRequest({ name, request: specOf(get().draft) });
      set({ savedId: saved.id, error: null });
      await get().loadSaved();
      return true;
    } catch (e) {
      set({ error: errorText(e) });
      return false;
    }
  },

  openSaved: (saved) => set({ draft: draftOf(saved.request), savedId: saved.id, touched: true }),

  renameSaved: async (id, name) => {
    try {
      await api().renameSavedRequest({ id, name });
      set({ error: null });
      await get().loadSaved();
      return true;
    } catch (e) {
      set({ error: errorText(e) });
      return false;
    }
  },

  suggestDefault: async () => {
    if (get().touched) return;
    try {
      const design = await api().design();
      if (!get().touched) set({ draft: defaultDraft(design.routes) });
    } catch {
      // the composer keeps `GET /`
    }
  },

  deleteSaved: async (id) => {
    try {
      await api().deleteSavedRequest(id);
      set((s) => ({ savedId: s.savedId === id ? null : s.savedId }));
      await get().loadSaved();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
}));
