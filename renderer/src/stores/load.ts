import { create } from "zustand";
import type { LoadProfileConfig, LoadStatus, RunInfo, RunRecord } from "../../../runtime/api/contract.ts";
import type { LevelPoint, RunSecond } from "../views/console/load-series.ts";
import { api, errorText } from "./connection.ts";

// The load store: the project's load profiles and the one being edited, the
// run going now (polled once a second, only the seconds not seen yet), the
// saved runs, and the run or pair of runs open for reading.

/** The run going now, as the charts draw it. */
export interface LiveRun {
  readonly id: string;
  readonly profile: string;
  readonly startedAt: number;
  readonly levels: readonly LevelPoint[];
  readonly model: "open" | "closed";
  readonly durationMs: number;
  readonly series: readonly RunSecond[];
}

export interface LoadState {
  readonly profiles: Readonly<Record<string, LoadProfileConfig>>;
  readonly selected: string | null;
  /** The JSON text in the editor; differs from the saved profile until saved. */
  readonly draft: string;
  readonly draftError: string | null;
  readonly saving: boolean;
  readonly starting: boolean;
  readonly live: LiveRun | null;
  /** Why the last call to the engine failed, or why the last run did. */
  readonly error: string | null;
  readonly runs: readonly RunInfo[];
  /** The saved run open for reading (when no run is going). */
  readonly opened: RunRecord | null;
  /** Runs ticked for comparison (at most two), and the pair when both are loaded. */
  readonly picked: readonly string[];
  readonly compared: readonly [RunRecord, RunRecord] | null;
  readonly loadProfiles: () => Promise<void>;
  readonly select: (name: string) => void;
  readonly editDraft: (text: string) => void;
  readonly saveDraft: () => Promise<void>;
  readonly start: () => Promise<void>;
  readonly stop: () => Promise<void>;
  readonly poll: () => Promise<void>;
  readonly loadRuns: () => Promise<void>;
  readonly openRun: (id: string | null) => Promise<void>;
  readonly togglePick: (id: string) => void;
  readonly compare: () => Promise<void>;
  readonly closeCompare: () => void;
}

const pretty = (p: unknown): string => JSON.stringify(p, null, 2);

/** The draft as a profile object, or the reason it is not one. */
export function parseDraft(
  text: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${errorText(e)}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, error: "a profile is a JSON object" };
  return { ok: true, value: value as Record<string, unknown> };
}

function liveOf(active: NonNullable<LoadStatus["active"]>, before: LiveRun | null): LiveRun {
  const series = before?.id === active.id ? [...before.series, ...active.series] : active.series;
  return { ...active, series };
}

let polling = false;

export const useLoadStore = create<LoadState>()((set, get) => ({
  profiles: {},
  selected: null,
  draft: "",
  draftError: null,
  saving: false,
  starting: false,
  live: null,
  error: null,
  runs: [],
  opened: null,
  picked: [],
  compared: null,

  loadProfiles: async () => {
    try {
      const profiles = await api().loadProfiles();
      const { selected } = get();
      const keep = selected !== null && selected in profiles;
      const first = Object.keys(profiles)[0] ?? null;
      set({ profiles });
      if (!keep && first !== null) get().select(first);
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  select: (name) => {
    const p = get().profiles[name];
    set({ selected: name, draft: p ? pretty(p) : "", draftError: null });
  },

  editDraft: (draft) => set({ draft, draftError: null }),

  saveDraft: async () => {
    const { selected, draft } = get();
    if (selected === null) return;
    const parsed = parseDraft(draft);
    if (!parsed.ok) {
      set({ draftError: parsed.error });
      return;
    }
    set({ saving: true, draftError: null });
    try {
      const profiles = await api().saveLoadProfile({ name: selected, profile: parsed.value });
      set({ profiles, saving: false, draft: pretty(profiles[selected] ?? parsed.value) });
    } catch (e) {
      set({ saving: false, draftError: errorText(e) });
    }
  },

  start: async () => {
    const { selected, draft, profiles } = get();
    if (selected === null) return;
    const parsed = parseDraft(draft);
    if (!parsed.ok) {
      set({ draftError: parsed.error });
      return;
    }
    // An edited, unsaved profile runs as edited, under its name.
    const edited = draft !== pretty(profiles[selected]);
    set({ starting: true, error: null, draftError: null, opened: null, compared: null });
    try {
      await api().startLoad(edited ? { profile: selected, config: parsed.value } : { profile: selected });
      set({ starting: false });
      await get().poll();
    } catch (e) {
      set({ starting: false, draftError: errorText(e) });
    }
  },

  stop: async () => {
    try {
      await api().stopLoad();
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  poll: async () => {
    // One poll at a time: each asks for the seconds after the last one it has.
    if (polling) return;
    polling = true;
    const before = get().live;
    const last = before?.series.at(-1)?.t ?? 0;
    try {
      const status = await api().loadStatus(last);
      if (status.active) {
        set({ live: liveOf(status.active, before), error: status.lastError });
        return;
      }
      set({ error: status.lastError });
      if (before) {
        // The run ended: show what was saved of it.
        set({ live: null });
        await get().loadRuns();
        await get().openRun(before.id);
      }
    } catch (e) {
      set({ error: errorText(e) });
    } finally {
      polling = false;
    }
  },

  loadRuns: async () => {
    try {
      set({ runs: await api().listRuns() });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  openRun: async (id) => {
    if (id === null) {
      set({ opened: null });
      return;
    }
    try {
      set({ opened: await api().getRun(id), compared: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  togglePick: (id) =>
    set((s) => ({
      picked: s.picked.includes(id) ? s.picked.filter((p) => p !== id) : [...s.picked, id].slice(-2),
    })),

  compare: async () => {
    const [a, b] = get().picked;
    if (a === undefined || b === undefined) return;
    try {
      const [ra, rb] = await Promise.all([api().getRun(a), api().getRun(b)]);
      if (!ra || !rb) throw new Error("one of the runs is no longer saved");
      // The older run is A: deltas read as "what changed since".
      set({ compared: ra.startedAt <= rb.startedAt ? [ra, rb] : [rb, ra], opened: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  closeCompare: () => set({ compared: null }),
}));
