import { create } from "zustand";
import type { BucketInfo, BucketObjectInfo, BucketValue } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The bucket store: the project's R2 buckets, a page of the chosen bucket's
// keys under a prefix (cursor paging, as R2's list), and one object opened.

export const BUCKET_PAGE = 100;

export interface BucketState {
  readonly buckets: readonly BucketInfo[];
  readonly binding: string | null;
  readonly prefix: string;
  readonly objects: readonly BucketObjectInfo[];
  /** The cursors of the pages before this one (for "Previous"); the first page's is "". */
  readonly cursors: readonly string[];
  readonly next: string | null;
  readonly opened: BucketValue | null;
  readonly error: string | null;
  readonly load: () => Promise<void>;
  readonly choose: (binding: string) => void;
  readonly setPrefix: (prefix: string) => void;
  readonly list: (cursor?: string) => Promise<void>;
  readonly nextPage: () => Promise<void>;
  readonly previousPage: () => Promise<void>;
  readonly open: (key: string | null) => Promise<void>;
}

export const useBucketStore = create<BucketState>()((set, get) => ({
  buckets: [],
  binding: null,
  prefix: "",
  objects: [],
  cursors: [],
  next: null,
  opened: null,
  error: null,

  load: async () => {
    try {
      const buckets = await api().buckets();
      const binding = get().binding;
      set({
        buckets,
        binding:
          binding && buckets.some((b) => b.binding === binding) ? binding : (buckets[0]?.binding ?? null),
      });
      const cursors = get().cursors;
      await get().list(cursors[cursors.length - 1]);
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  choose: (binding) => {
    set({ binding, objects: [], cursors: [], next: null, opened: null, error: null });
    void get().list();
  },

  setPrefix: (prefix) => {
    set({ prefix, cursors: [], next: null });
    void get().list();
  },

  list: async (cursor = "") => {
    const { binding, prefix } = get();
    if (!binding) return;
    try {
      const page = await api().bucketList({
        binding,
        limit: BUCKET_PAGE,
        ...(prefix ? { prefix } : {}),
        ...(cursor ? { cursor } : {}),
      });
      if (get().binding !== binding || get().prefix !== prefix) return;
      const cursors = get().cursors;
      set({
        objects: page.objects,
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
    const binding = get().binding;
    if (!binding || key === null) {
      set({ opened: null });
      return;
    }
    try {
      set({ opened: await api().bucketObject({ binding, key }) });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
}));
