import { readdirSync, readFileSync } from "node:fs";
import type { ClassUsage } from "../state/usage-meter.ts";
import { join } from "node:path";
import { writeJsonFile } from "../shared/json-file.ts";
import type { LoadProfileConfig } from "../config/terrarium.ts";
import type { LoadPlan } from "./profile.ts";
import { RUN_ID } from "./run-id.ts";
import type { RunSecond, RunSummary } from "./summary.ts";

/** A saved load run: what was asked, what came out, and every second of it. */
export interface RunRecord {
  id: string;
  profile: string;
  config: LoadProfileConfig;
  plan: LoadPlan;
  startedAt: number;
  summary: RunSummary;
  series: RunSecond[];
  /** What the objects used while the run went, per class; absent when the engine was not in this process. */
  usage?: RunUsage;
}

/** A run's usage, for its cost on Cloudflare (runtime/load/cost.ts). */
export interface RunUsage {
  windowMs: number;
  byClass: Record<string, ClassUsage>;
}

/** A line of the run list. */
export interface RunInfo {
  id: string;
  profile: string;
  description: string;
  startedAt: number;
  elapsedMs: number;
  sent: number;
  completed: number;
  errorRate: number;
  throughput: number;
  p99Ms: number;
  /** False when a threshold failed. */
  ok: boolean;
  /** How many thresholds the run was held to (absent in runs saved before it was kept). */
  thresholds?: number;
}

/**
 * Runs as JSON files under <data>/runs/, one per run (a run is written
 * once, at its end; a file is renamed into place so a reader never sees half
 * of one). The summary also goes to a small index line per run so listing
 * does not read every time series.
 */
export class RunStore {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = join(dataDir, "runs");
  }

  save(run: RunRecord): string {
    const path = join(this.#dir, `${run.id}.json`);
    writeJsonFile(path, run);
    writeJsonFile(join(this.#dir, `${run.id}.info.json`), runInfo(run));
    return path;
  }

  /** Newest first. */
  list(): RunInfo[] {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return [];
    }
    const out: RunInfo[] = [];
    for (const name of names) {
      if (!name.endsWith(".info.json")) continue;
      try {
        out.push(JSON.parse(readFileSync(join(this.#dir, name), "utf8")) as RunInfo);
      } catch {
        // a file being written, or not ours
      }
    }
    return out.sort((a, b) => b.startedAt - a.startedAt || b.id.localeCompare(a.id));
  }

  get(id: string): RunRecord | null {
    if (!RUN_ID.test(id)) return null;
    try {
      return JSON.parse(readFileSync(join(this.#dir, `${id}.json`), "utf8")) as RunRecord;
    } catch {
      return null;
    }
  }
}

function runInfo(r: RunRecord): RunInfo {
  const s = r.summary;
  return {
    id: r.id,
    profile: r.profile,
    description: s.description,
    startedAt: r.startedAt,
    elapsedMs: s.elapsedMs,
    sent: s.requests.sent,
    completed: s.requests.completed,
    errorRate: s.errorRate,
    throughput: s.throughput.completed,
    p99Ms: s.latencyMs.p99,
    ok: s.ok,
    thresholds: s.thresholds.length,
  };
}
