import { create } from "zustand";
import type { DatabaseInfo, QueryResult } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The database store: the project's D1 databases, the one the Inspector
// shows, and its read-only SQL box (a table's rows are a page of SQL too).

/** Rows per page when browsing a table. */
export const DB_PAGE_ROWS = 100;

export interface DatabaseState {
  readonly databases: readonly DatabaseInfo[];
  readonly binding: string | null;
  readonly sql: string;
  readonly page: { readonly table: string; readonly offset: number } | null;
  readonly running: boolean;
  readonly result: QueryResult | null;
  readonly durationMs: number | null;
  readonly error: string | null;
  readonly load: () => Promise<void>;
  readonly choose: (binding: string) => void;
  readonly setSql: (sql: string) => void;
  readonly run: () => Promise<void>;
  readonly browse: (table: string, offset?: number) => Promise<void>;
}

export const useDatabaseStore = create<DatabaseState>()((set, get) => ({
  databases: [],
  binding: null,
  sql: "",
  page: null,
  running: false,
  result: null,
  durationMs: null,
  error: null,

  load: async () => {
    try {
      const databases = await api().databases();
      const binding = get().binding;
      set({
        databases,
        binding:
          binding && databases.some((d) => d.binding === binding) ? binding : (databases[0]?.binding ?? null),
      });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  choose: (binding) => set({ binding, sql: "", page: null, result: null, error: null }),
  setSql: (sql) => set({ sql, page: null }),

  run: async () => {
    const { binding, sql } = get();
    if (!binding || !sql.trim()) return;
    set({ running: true, error: null });
    const started = performance.now();
    try {
      const result = await api().databaseQuery({ binding, sql, limit: 1000 });
      if (get().binding === binding) set({ running: false, result, durationMs: performance.now() - started });
    } catch (e) {
      if (get().binding === binding)
        set({ running: false, result: null, durationMs: null, error: errorText(e) });
    }
  },

  browse: async (table, offset = 0) => {
    const sql = `SELECT * FROM "${table.replace(/"/g, '""')}" LIMIT ${DB_PAGE_ROWS} OFFSET ${offset}`;
    set({ sql, page: { table, offset } });
    await get().run();
  },
}));
