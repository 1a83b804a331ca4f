import { create } from "zustand";
import type { ClassSummary, LiveEvent, ObjectSummary } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The objects store: every object the registry knows, for the Inspector's
// table, kept current by the live stream. Live transitions patch the rows they
// name; an object the store has not seen (or a gap in the stream) schedules a
// reload, at most once a second, so a burst of new objects costs one request;
// patched rows are refreshed from the engine (storage sizes) every 5 seconds.

export type SortKey =
  "className" | "name" | "state" | "inFlight" | "requests" | "storageBytes" | "lastActive";

export interface ObjectFilter {
  readonly className: string;
  readonly state: string;
  readonly search: string;
}

export interface ObjectsState {
  readonly objects: readonly ObjectSummary[];
  readonly classes: readonly ClassSummary[];
  readonly loaded: boolean;
  readonly error: string | null;
  readonly filter: ObjectFilter;
  readonly sort: { readonly key: SortKey; readonly dir: 1 | -1 };
  readonly setFilter: (patch: Partial<ObjectFilter>) => void;
  readonly sortBy: (key: SortKey) => void;
  readonly load: () => Promise<void>;
  readonly applyLive: (events: readonly LiveEvent[]) => void;
}

const RELOAD_MS = 1_000;
const REFRESH_MS = 5_000;
/** The most objects the table holds; a project past it shows a note. */
export const OBJECT_LIMIT = 50_000;

let reloadTimer: ReturnType<typeof setTimeout> | null = null;
let lastLoad = 0;

export const useObjectsStore = create<ObjectsState>()((set, get) => {
  const scheduleReload = (soon: boolean): void => {
    const wait = Math.max(0, lastLoad + (soon ? RELOAD_MS : REFRESH_MS) - Date.now());
    if (reloadTimer) {
      if (!soon) return;
      clearTimeout(reloadTimer);
    }
    reloadTimer = setTimeout(() => {
      reloadTimer = null;
      void get().load();
    }, wait);
  };

  return {
    objects: [],
    classes: [],
    loaded: false,
    error: null,
    filter: { className: "", state: "", search: "" },
    sort: { key: "lastActive", dir: -1 },
    setFilter: (patch) => set((s) => ({ filter: { ...s.filter, ...patch } })),
    sortBy: (key) =>
      set((s) => ({
        sort: { key, dir: s.sort.key === key ? (s.sort.dir === 1 ? -1 : 1) : key === "lastActive" ? -1 : 1 },
      })),

    load: async () => {
      lastLoad = Date.now();
      try {
        const [list, classes] = await Promise.all([
          api().listObjects({ limit: OBJECT_LIMIT }),
          api().listClasses(),
        ]);
        set({ objects: list.objects, classes, loaded: true, error: null });
      } catch (e) {
        set({ error: errorText(e), loaded: true });
      }
    },

    applyLive: (events) => {
      let objects: ObjectSummary[] | null = null;
      let index: Map<string, number> | null = null;
      let reload = false;
      for (const e of events) {
        if (e.type === "problem") {
          reload = true;
          continue;
        }
        if (e.type !== "transition" && e.type !== "request") continue;
        // Another Worker's object (-c) is not in this table (worker-objects.ts lists it).
        if (e.type === "transition" && e.data.worker !== undefined) continue;
        const id = e.data.objectId;
        if (!id) continue;
        if (!index) {
          objects = [...get().objects];
          index = new Map(objects.map((o, i) => [o.id, i]));
        }
        const i = index.get(id);
        if (i === undefined || !objects) {
          reload = true;
          continue;
        }
        const o = objects[i]!;
        if (e.type === "transition") {
          if (e.data.to === "Terminating") reload = true;
          const to = e.data.to;
          objects[i] = {
            ...o,
            // Until the next refresh: asleep, or busy; the engine's answer fills in the rest.
            awake:
              to === "Hibernating" || to === "Terminating" || to === "Created"
                ? null
                : to === "Processing"
                  ? { reason: "requests in flight", hibernatesAt: null }
                  : { reason: null, hibernatesAt: o.awake?.reason ? null : (o.awake?.hibernatesAt ?? null) },
            state: e.data.to,
            inFlight:
              e.data.to === "Processing" ? Math.max(1, o.inFlight) : e.data.to === "Active" ? 0 : o.inFlight,
            lastActive: Math.max(o.lastActive, e.data.time),
          };
        } else {
          objects[i] = { ...o, requests: o.requests + 1, lastActive: Math.max(o.lastActive, e.data.time) };
        }
      }
      if (objects) set({ objects });
      if (reload || objects) scheduleReload(reload);
    },
  };
});

/** The rows the table shows: filtered, searched and sorted. */
export function visibleObjects(
  objects: readonly ObjectSummary[],
  filter: ObjectFilter,
  sort: ObjectsState["sort"],
): ObjectSummary[] {
  const search = filter.search.trim().toLowerCase();
  const rows = objects.filter(
    (o) =>
      (!filter.className || o.className === filter.className) &&
      (!filter.state || o.state === filter.state) &&
      (!search || o.id.includes(search) || (o.name ?? "").toLowerCase().includes(search)),
  );
  const { key, dir } = sort;
  rows.sort((a, b) => {
    const x = a[key] ?? "";
    const y = b[key] ?? "";
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return c * dir || a.id.localeCompare(b.id);
  });
  return rows;
}
