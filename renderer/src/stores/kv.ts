import { create } from "zustand";
import type { KvKeyInfo, KvNamespaceInfo, KvPutSpec, KvValue } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";
import { cursorPages, type CursorPages } from "./cursor-pages.ts";

// The KV store: the namespaces the project's Workers bind, a page of the
// chosen namespace's keys under a prefix (cursor paging, as list():
// cursor-pages.ts; `source` is the namespace id), one key opened, and the
// edits (put, delete) made through the control API.

export const KV_PAGE = 100;

export interface KvState extends CursorPages<KvKeyInfo> {
  readonly namespaces: readonly KvNamespaceInfo[];
  readonly opened: KvValue | null;
  /** The key opened was deleted or expired since. */
  readonly gone: string | null;
  readonly load: () => Promise<void>;
  readonly open: (key: string | null) => Promise<void>;
  /** Writes a key; answers the error text (null when it was written). */
  readonly put: (spec: Omit<KvPutSpec, "namespace">) => Promise<string | null>;
  readonly remove: (key: string) => Promise<string | null>;
}

export const useKvStore = create<KvState>()((set, get) => ({
  ...cursorPages<KvKeyInfo>(
    set,
    get,
    async ({ source, prefix, cursor }) => {
      const page = await api().kvList({
        namespace: source,
        limit: KV_PAGE,
        ...(prefix ? { prefix } : {}),
        ...(cursor ? { cursor } : {}),
      });
      return { items: page.keys, cursor: page.cursor };
    },
    () => set({ opened: null, gone: null }),
  ),
  namespaces: [],
  opened: null,
  gone: null,

  load: async () => {
    try {
      const namespaces = await api().kvNamespaces();
      const ns = get().source;
      set({
        namespaces,
        source: ns && namespaces.some((n) => n.namespace === ns) ? ns : (namespaces[0]?.namespace ?? null),
      });
      await get().relist();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  open: async (key) => {
    const namespace = get().source;
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
    const namespace = get().source;
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
    const namespace = get().source;
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
