import { create } from "zustand";
import type {
  CheckResult,
  ExportCheck,
  ExportPlanInfo,
  ExportWriteResult,
  LiveEvent,
} from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The export store: the folder the user exports to, what the export would
// write there, the last write, and the validation checks with their output.

export interface CheckState {
  readonly running: boolean;
  /** What the check printed so far (streamed while it runs). */
  readonly output: string;
  readonly result: CheckResult | null;
  readonly error: string | null;
}

export interface ExportState {
  readonly outDir: string;
  readonly force: boolean;
  readonly plan: ExportPlanInfo | null;
  readonly planning: boolean;
  /** The exporter refused the project (its own checks), or the folder could not be read. */
  readonly planError: string | null;
  readonly selected: string | null;
  readonly writing: boolean;
  readonly written: ExportWriteResult | null;
  readonly writeError: string | null;
  readonly checks: Readonly<Record<ExportCheck, CheckState>>;
  readonly setOutDir: (outDir: string) => void;
  readonly setForce: (force: boolean) => void;
  readonly loadPlan: () => Promise<void>;
  readonly select: (path: string | null) => void;
  readonly write: () => Promise<void>;
  readonly runCheck: (check: ExportCheck) => Promise<void>;
  readonly applyLive: (events: readonly LiveEvent[]) => void;
}

const idle: CheckState = { running: false, output: "", result: null, error: null };
/** Output kept per check: a failing type-check of a big project can print a lot. */
const OUTPUT_LIMIT = 200_000;

export const useExportStore = create<ExportState>()((set, get) => ({
  outDir: "",
  force: false,
  plan: null,
  planning: false,
  planError: null,
  selected: null,
  writing: false,
  written: null,
  writeError: null,
  checks: { typecheck: idle, "dry-run": idle },

  setOutDir: (outDir) => set({ outDir, written: null, writeError: null }),
  setForce: (force) => set({ force }),

  loadPlan: async () => {
    const outDir = get().outDir.trim();
    set({ planning: true });
    try {
      const plan = await api().exportPlan(
        outDir.startsWith("/") || /^[A-Za-z]:[\\/]/.test(outDir) ? { outDir } : {},
      );
      if (get().outDir.trim() !== outDir) return;
      const selected = get().selected;
      set({
        plan,
        planning: false,
        planError: null,
        selected: selected && plan.files.some((f) => f.path === selected) ? selected : "wrangler.jsonc",
      });
    } catch (e) {
      set({ planning: false, planError: errorText(e) });
    }
  },

  select: (selected) => set({ selected }),

  write: async () => {
    const { outDir, force } = get();
    set({ writing: true, written: null, writeError: null });
    try {
      const written = await api().writeExport({ outDir: outDir.trim(), ...(force ? { force: true } : {}) });
      set({ writing: false, written, force: false });
    } catch (e) {
      set({ writing: false, writeError: errorText(e) });
    }
    await get().loadPlan();
  },

  runCheck: async (check) => {
    const patch = (p: Partial<CheckState>): void =>
      set((s) => ({ checks: { ...s.checks, [check]: { ...s.checks[check], ...p } } }));
    patch({ running: true, output: "", result: null, error: null });
    try {
      const result = await api().validateExport(check);
      patch({ running: false, result, output: result.output.slice(-OUTPUT_LIMIT) });
    } catch (e) {
      patch({ running: false, error: errorText(e) });
    }
  },

  applyLive: (events) => {
    const chunks: Partial<Record<ExportCheck, string>> = {};
    for (const e of events) {
      if (e.type === "exportCheck") chunks[e.data.check] = (chunks[e.data.check] ?? "") + e.data.chunk;
    }
    const entries = Object.entries(chunks) as [ExportCheck, string][];
    if (entries.length === 0) return;
    set((s) => {
      const checks = { ...s.checks };
      for (const [check, chunk] of entries) {
        if (!checks[check].running) continue;
        checks[check] = { ...checks[check], output: (checks[check].output + chunk).slice(-OUTPUT_LIMIT) };
      }
      return { checks };
    });
  },
}));
