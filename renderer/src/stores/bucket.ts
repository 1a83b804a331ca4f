import { create } from "zustand";
import type { BucketInfo, BucketObjectInfo, BucketValue } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";
import { cursorPages, type CursorPages } from "./cursor-pages.ts";

// The bucket store: the project's R2 buckets, a page of the chosen bucket's
// keys under a prefix (cursor paging, as R2's list: cursor-pages.ts;
// `source` is the bucket's binding), and one object opened.

export const BUCKET_PAGE = 100;

export interface BucketState extends CursorPages<BucketObjectInfo> {
  readonly buckets: readonly BucketInfo[];
  readonly opened: BucketValue | null;
  readonly load: () => Promise<void>;
  readonly open: (key: string | null) => Promise<void>;
}

export const useBucketStore = create<BucketState>()((set, get) => ({
  ...cursorPages<BucketObjectInfo>(
    set,
    get,
    async ({ source, prefix, cursor }) => {
      const page = await api().bucketList({
        binding: source,
        limit: BUCKET_PAGE,
        ...(prefix ? { prefix } : {}),
        ...(cursor ? { cursor } : {}),
      });
      return { items: page.objects, cursor: page.cursor };
    },
    () => set({ opened: null }),
  ),
  buckets: [],
  opened: null,

  load: async () => {
    try {
      const buckets = await api().buckets();
      const binding = get().source;
      set({
        buckets,
        source:
          binding && buckets.some((b) => b.binding === binding) ? binding : (buckets[0]?.binding ?? null),
      });
      await get().relist();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  open: async (key) => {
    const binding = get().source;
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
