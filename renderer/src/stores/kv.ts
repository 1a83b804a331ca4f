import { create } from "zustand";
import type { KvKeyInfo, KvNamespaceInfo, KvPutSpec, KvValue } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The KV store: the namespaces the project's Workers bind, a page of the
// chosen namespace's keys under a prefix (cursor paging, as list()), one
// key opened, and the edits (put, delete) made through the control API.

export const KV_PAGE = 100;

export interface KvState {
  readonly namespaces: readonly KvNamespaceInfo[];
  readonly namespace: string | null;
  readonly prefix: string;
  readonly keys: readonly KvKeyInfo[];
  /** The cursors of the pages before this one (for "Previous"); the first page's is "". */
  readonly cursors: readonly string[];
  readonly next: string | null;
  readonly opened: KvValue | null;
  /** The key opened was deleted or expired since. */
  readonly gone: string | null;
  readonly error: string | null;
  readonly load: () => Promise<void>;
  readonly choose: (namespace: string) => void;
  readonly setPrefix: (prefix: string) => void;
  readonly list: (cursor?: string) => Promise<void>;
  readonly nextPage: () => Promise<void>;
  readonly previousPage: () => Promise<void>;
  readonly open: (key: string | null) => Promise<void>;
  /** Writes a key; answers the error text (null when it was written). */
  readonly put: (spec: Omit<KvPutSpec, "namespace">) => Promise<string | null>;
  readonly remove: (key: string) => Promise<string | null>;
}

export const useKvStore = create<KvState>()((set, get) => ({
  namespaces: [],
  namespace: null,
  prefix: "",
  keys: [],
  cursors: [],
  next: null,
  opened: null,
  gone: null,
  error: null,

  load: async () => {
    try {
      const namespaces = await api().kvNamespaces();
      const ns = get().namespace;
      set({
        namespaces,
        namespace: ns && namespaces.some((n) => n.namespace === ns) ? ns : (namespaces[0]?.namespace ?? null),
      });
      const cursors = get().cursors;
      await get().list(cursors[cursors.length - 1]);
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  choose: (namespace) => {
    set({ namespace, keys: [], cursors: [], next: null, opened: null, gone: null, error: null });
    void get().list();
  },

  setPrefix: (prefix) => {
    set({ prefix, cursors: [], next: null });
    void get().list();
  },

  list: async (cursor = "") => {
    const { namespace, prefix } = get();
    if (!namespace) return;
    try {
      const page = await api().kvList({
        namespace,
        limit: KV_PAGE,
        ...(prefix ? { prefix } : {}),
        ...(cursor ? { cursor } : {}),
      });
      if (get().namespace !== namespace || get().prefix !== prefix) return;
      const cursors = get().cursors;
      set({
        keys: page.keys,
        next: page.cursor,
        cursors: cursors[cursors.length - 1] === cursor ? cursors : [...cursors, cursor],
        error: null,
      });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  nextPage: async () => {
    const next = get().next;
    if (next) await get().list(next);
  },

  previousPage: async () => {
    const cursors = get().cursors.slice(0, -1);
    set({ cursors });
    await get().list(cursors[cursors.length - 1] ?? "");
  },

  open: async (key) => {
    const namespace = get().namespace;
    if (!namespace || key === null) {
      set({ opened: null, gone: null });
      return;
    }
    try {
      const opened = await api().kvGet({ namespace, key });
      set(opened ? { opened, gone: null } : { opened: null, gone: key });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  put: async (spec) => {
    const namespace = get().namespace;
    if (!namespace) return "no namespace chosen";
    try {
      await api().kvPut({ namespace, ...spec });
    } catch (e) {
      return errorText(e);
    }
    await get().load();
    await get().open(spec.key);
    return null;
  },

  remove: async (key) => {
    const namespace = get().namespace;
    if (!namespace) return "no namespace chosen";
    try {
      await api().kvDelete({ namespace, key });
    } catch (e) {
      return errorText(e);
    }
    set({ opened: null, gone: null });
    await get().load();
    return null;
  },
}));
