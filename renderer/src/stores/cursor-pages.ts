// Cursor paging as KV's list() and R2's list() give it, shared by the stores
// that browse one of several sources (a KV namespace, an R2 bucket): the
// source chosen, a prefix, one page of items, and the cursors of the pages
// before it so "Previous" can go back (the API only gives the next cursor).
// Plain data and functions (no connection): the unit tests load it in Node.

/** One page as a list call answers it; `cursor` is the next page's, null on the last. */
export interface CursorPage<T> {
  readonly items: readonly T[];
  readonly cursor: string | null;
}

/** Fetches the page of `source` under `prefix` from `cursor` ("" for the first). */
export type FetchPage<T> = (q: { source: string; prefix: string; cursor: string }) => Promise<CursorPage<T>>;

export interface CursorPages<T> {
  /** The namespace or bucket chosen; null until there is one. */
  readonly source: string | null;
  readonly prefix: string;
  readonly items: readonly T[];
  /** The cursors of the pages up to this one (for "Previous"); the first page's is "". */
  readonly cursors: readonly string[];
  readonly next: string | null;
  readonly error: string | null;
  readonly choose: (source: string) => void;
  readonly setPrefix: (prefix: string) => void;
  /** Lists the page from `cursor` (the first by default). */
  readonly list: (cursor?: string) => Promise<void>;
  /** Lists the page shown again (after a poll or an edit). */
  readonly relist: () => Promise<void>;
  readonly nextPage: () => Promise<void>;
  readonly previousPage: () => Promise<void>;
}

/**
 * The cursor-paging slice of a zustand store whose state extends
 * CursorPages<T>: pass the store's `set` and `get`. `onChoose` is called when
 * another source is chosen (to drop what was opened in the old one). A page
 * that arrives after the source or prefix changed is dropped.
 */
export function cursorPages<T>(
  set: (partial: Partial<CursorPages<T>>) => void,
  get: () => CursorPages<T>,
  fetchPage: FetchPage<T>,
  onChoose: () => void = () => {},
): CursorPages<T> {
  return {
    source: null,
    prefix: "",
    items: [],
    cursors: [],
    next: null,
    error: null,

    choose: (source) => {
      set({ source, items: [], cursors: [], next: null, error: null });
      onChoose();
      void get().list();
    },

    setPrefix: (prefix) => {
      set({ prefix, cursors: [], next: null });
      void get().list();
    },

    list: async (cursor = "") => {
      const { source, prefix } = get();
      if (source === null) return;
      try {
        const page = await fetchPage({ source, prefix, cursor });
        if (get().source !== source || get().prefix !== prefix) return;
        const cursors = get().cursors;
        set({
          items: page.items,
          next: page.cursor,
          cursors: cursors[cursors.length - 1] === cursor ? cursors : [...cursors, cursor],
          error: null,
        });
      } catch (e) {
        set({ error: e instanceof Error ? e.message : String(e) });
      }
    },

    relist: async () => {
      const cursors = get().cursors;
      await get().list(cursors[cursors.length - 1]);
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
  };
}
