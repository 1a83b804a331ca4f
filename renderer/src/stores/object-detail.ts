import { create } from "zustand";
import type {
  AlarmRecord,
  HttpResult,
  KvEntry,
  LiveEvent,
  LogEntry,
  ObjectEvents,
  ObjectSummary,
  QueryResult,
  SocketSummary,
  TransitionRecord,
} from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";
import { mergeBySeq } from "./seq-merge.ts";

// The object-detail store: everything the Inspector shows about the one object
// whose page is open. Its transitions and logs grow from the live stream.

/** Transitions kept for the timeline and the diagram's counts. */
const TRANSITION_LIMIT = 10_000;
const LOG_LIMIT = 2_000;

export interface SqlState {
  readonly text: string;
  /** The table being paged through, when the query is a page of it. */
  readonly page: { readonly table: string; readonly offset: number } | null;
  readonly allowWrites: boolean;
  readonly running: boolean;
  readonly result: QueryResult | null;
  readonly error: string | null;
  readonly durationMs: number | null;
  /** The last write was refused because the object is live (its worker has the database open). */
  readonly refusedLive: boolean;
}

/** The request composed on the object's page, sent straight to its fetch handler. */
export interface ObjectRequestState {
  readonly method: string;
  readonly path: string;
  /** One `name: value` per line. */
  readonly headers: string;
  readonly body: string;
  readonly sending: boolean;
  readonly result: HttpResult | null;
  readonly error: string | null;
}

/** `name: value` lines as header pairs; lines without a name are skipped. */
export function parseHeaderLines(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    const name = (i < 0 ? line : line.slice(0, i)).trim();
    if (!name) continue;
    out.push([name, i < 0 ? "" : line.slice(i + 1).trim()]);
  }
  return out;
}

export interface TableInfo {
  readonly name: string;
  readonly type: string;
  readonly sql: string;
}

export interface ObjectDetailState {
  readonly id: string | null;
  readonly summary: ObjectSummary | null;
  readonly transitions: readonly TransitionRecord[];
  readonly logs: readonly LogEntry[];
  readonly alarms: readonly AlarmRecord[];
  readonly tables: readonly TableInfo[];
  readonly kv: readonly KvEntry[];
  readonly sql: SqlState;
  readonly sockets: readonly SocketSummary[] | null;
  readonly events: ObjectEvents | null;
  readonly request: ObjectRequestState;
  readonly error: string | null;
  readonly busy: string | null;
  readonly open: (id: string | null) => Promise<void>;
  readonly refresh: () => Promise<void>;
  readonly loadStorage: () => Promise<void>;
  readonly setSql: (patch: Partial<Pick<SqlState, "text" | "allowWrites">>) => void;
  readonly runSql: () => Promise<void>;
  /** Shows a table's rows a page at a time (a SELECT the user can then edit). */
  readonly browse: (table: string, offset?: number) => Promise<void>;
  /** Hibernates the object, then runs the SQL box's statement (a write refused while it was live). */
  readonly hibernateAndRun: () => Promise<void>;
  readonly loadSockets: () => Promise<void>;
  readonly loadEvents: () => Promise<void>;
  readonly editRequest: (
    patch: Partial<Pick<ObjectRequestState, "method" | "path" | "headers" | "body">>,
  ) => void;
  readonly sendRequest: () => Promise<void>;
  readonly hibernate: () => Promise<void>;
  readonly terminate: () => Promise<void>;
  readonly fireAlarm: () => Promise<void>;
  readonly applyLive: (events: readonly LiveEvent[]) => void;
}

const TABLES_SQL =
  "SELECT name, type, sql FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name";

/** Rows per page when browsing a table. */
export const PAGE_ROWS = 100;

const emptySql: SqlState = {
  text: "",
  page: null,
  allowWrites: false,
  running: false,
  result: null,
  error: null,
  durationMs: null,
  refusedLive: false,
};

const emptyRequest: ObjectRequestState = {
  method: "GET",
  path: "/",
  headers: "",
  body: "",
  sending: false,
  result: null,
  error: null,
};

export const useObjectDetailStore = create<ObjectDetailState>()((set, get) => {
  /** Runs fn only if the page still shows the same object when it resolves. */
  const forCurrent = async <T>(id: string, fn: () => Promise<T>, apply: (v: T) => void): Promise<void> => {
    try {
      const v = await fn();
      if (get().id === id) apply(v);
    } catch (e) {
      if (get().id === id) set({ error: errorText(e) });
    }
  };

  return {
    id: null,
    summary: null,
    transitions: [],
    logs: [],
    alarms: [],
    tables: [],
    kv: [],
    sql: emptySql,
    sockets: null,
    events: null,
    request: emptyRequest,
    error: null,
    busy: null,

    open: async (id) => {
      if (id === get().id) return;
      set({
        id,
        summary: null,
        transitions: [],
        logs: [],
        alarms: [],
        tables: [],
        kv: [],
        sql: emptySql,
        sockets: null,
        events: null,
        // The composer keeps what was typed (a path tried on one object is often tried on the next).
        request: { ...get().request, sending: false, result: null, error: null },
        error: null,
        busy: null,
      });
      if (id) await get().refresh();
    },

    refresh: async () => {
      const id = get().id;
      if (!id) return;
      await Promise.all([
        forCurrent(
          id,
          () => api().getObject(id),
          (summary) => set({ summary }),
        ),
        forCurrent(
          id,
          () => api().transitions({ objectId: id, limit: TRANSITION_LIMIT }),
          (fetched) => set((s) => ({ transitions: mergeBySeq(fetched, s.transitions, TRANSITION_LIMIT) })),
        ),
        forCurrent(
          id,
          () => api().logs({ objectId: id, limit: LOG_LIMIT }),
          (fetched) => set((s) => ({ logs: mergeBySeq(fetched, s.logs, LOG_LIMIT) })),
        ),
        forCurrent(
          id,
          () => api().alarms(id),
          (alarms) => set({ alarms }),
        ),
      ]);
    },

    loadStorage: async () => {
      const id = get().id;
      if (!id) return;
      await Promise.all([
        forCurrent(
          id,
          () => api().query({ objectId: id, sql: TABLES_SQL }),
          (r) =>
            set({
              tables: r.rows.map(([name, type, sql]) => ({
                name: String(name),
                type: String(type),
                sql: String(sql ?? ""),
              })),
            }),
        ),
        forCurrent(
          id,
          () => api().listKv({ objectId: id, limit: 1000 }),
          (kv) => set({ kv }),
        ),
      ]);
    },

    setSql: (patch) =>
      set((s) => ({ sql: { ...s.sql, ...patch, page: patch.text === undefined ? s.sql.page : null } })),

    browse: async (table, offset = 0) => {
      const text = `SELECT * FROM "${table.replace(/"/g, '""')}" LIMIT ${PAGE_ROWS} OFFSET ${offset}`;
      set((s) => ({ sql: { ...s.sql, text, page: { table, offset } } }));
      await get().runSql();
    },

    runSql: async () => {
      const id = get().id;
      const { text, allowWrites } = get().sql;
      if (!id || !text.trim()) return;
      set((s) => ({ sql: { ...s.sql, running: true, error: null, refusedLive: false } }));
      const started = performance.now();
      try {
        // Writes go through their own method, which the engine refuses while the object is live.
        const result = allowWrites
          ? await api().writeSql({ objectId: id, sql: text })
          : await api().query({ objectId: id, sql: text, limit: 1000 });
        if (get().id !== id) return;
        set((s) => ({
          sql: { ...s.sql, running: false, result, durationMs: performance.now() - started },
        }));
        if (result.rowsWritten > 0) void get().loadStorage();
      } catch (e) {
        if (get().id !== id) return;
        set((s) => ({
          sql: {
            ...s.sql,
            running: false,
            result: null,
            error: errorText(e),
            durationMs: null,
            refusedLive: e instanceof Error && e.name === "ObjectLiveError",
          },
        }));
      }
    },

    hibernateAndRun: async () => {
      await get().hibernate();
      if (get().summary?.state === "Hibernating") await get().runSql();
    },

    loadSockets: async () => {
      const id = get().id;
      if (!id) return;
      await forCurrent(
        id,
        () => api().objectSockets(id),
        (sockets) => set({ sockets }),
      );
    },

    loadEvents: async () => {
      const id = get().id;
      if (!id) return;
      await forCurrent(
        id,
        () => api().objectEvents({ objectId: id, limit: 200 }),
        (events) => set({ events }),
      );
    },

    editRequest: (patch) => set((s) => ({ request: { ...s.request, ...patch } })),

    sendRequest: async () => {
      const id = get().id;
      const r = get().request;
      if (!id || r.sending) return;
      const path = r.path.startsWith("/") ? r.path : `/${r.path}`;
      const headers = parseHeaderLines(r.headers);
      const withBody = r.body !== "" && r.method !== "GET" && r.method !== "HEAD";
      set((s) => ({ request: { ...s.request, sending: true, error: null } }));
      try {
        const result = await api().objectRequest({
          objectId: id,
          method: r.method,
          path,
          ...(headers.length ? { headers } : {}),
          ...(withBody ? { body: r.body } : {}),
        });
        if (get().id === id) set((s) => ({ request: { ...s.request, sending: false, result } }));
      } catch (e) {
        if (get().id === id)
          set((s) => ({ request: { ...s.request, sending: false, result: null, error: errorText(e) } }));
      }
    },

    hibernate: async () => {
      const id = get().id;
      if (!id) return;
      set({ busy: "Hibernating…", error: null });
      await forCurrent(
        id,
        () => api().hibernate(id),
        () => undefined,
      );
      set({ busy: null });
      await get().refresh();
    },

    terminate: async () => {
      const id = get().id;
      if (!id) return;
      set({ busy: "Terminating…", error: null });
      await forCurrent(
        id,
        () => api().terminate(id),
        () => undefined,
      );
      set({ busy: null });
      await get().refresh();
    },

    fireAlarm: async () => {
      const id = get().id;
      if (!id) return;
      await forCurrent(
        id,
        () => api().fireAlarm(id),
        () => undefined,
      );
      await get().refresh();
    },

    applyLive: (events) => {
      const { id, summary } = get();
      if (!id) return;
      const transitions: TransitionRecord[] = [];
      const logs: LogEntry[] = [];
      let requests = 0;
      for (const e of events) {
        if (e.type === "transition" && e.data.objectId === id) transitions.push(e.data);
        else if (e.type === "log" && e.data.objectId === id) logs.push(e.data);
        else if (e.type === "request" && e.data.objectId === id) requests++;
      }
      if (!transitions.length && !logs.length && !requests) return;
      const last = transitions[transitions.length - 1];
      set((s) => ({
        transitions: transitions.length
          ? mergeBySeq(s.transitions, transitions, TRANSITION_LIMIT)
          : s.transitions,
        logs: logs.length ? mergeBySeq(s.logs, logs, LOG_LIMIT) : s.logs,
        summary: summary
          ? {
              ...summary,
              ...(last ? { state: last.to, lastActive: Math.max(summary.lastActive, last.time) } : {}),
              requests: summary.requests + requests,
            }
          : summary,
      }));
    },
  };
});
