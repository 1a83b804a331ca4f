import { parseLoadProfile, type LoadProfileConfig } from "../config/terrarium.ts";
import type { MetricsSource } from "./metrics.ts";
import { planLoad } from "./profile.ts";
import { runLoad } from "./run.ts";
import { newRunId } from "./run-id.ts";
import { RunStore, type RunInfo, type RunRecord } from "./runs.ts";
import type { LevelPoint } from "./schedule.ts";
import type { RunSecond } from "./summary.ts";

/** The run going now, as the console's live charts see it. */
export interface ActiveRun {
  id: string;
  profile: string;
  startedAt: number;
  /** The profile's level over time (its stages and spike), as the plan draws it. */
  levels: LevelPoint[];
  model: "open" | "closed";
  durationMs: number;
  /** The seconds after the one the caller asked from (all of them by default). */
  series: RunSecond[];
}

export interface LoadStatus {
  active: ActiveRun | null;
  /** Why the last run started here failed, if it did. */
  lastError: string | null;
}

/** What the console needs of the engine: metrics, its router, its data folder, snapshots on a schedule. */
type ConsoleEngine = MetricsSource & {
  readonly url: string | null;
  readonly dataDir: string;
  snapshotDuringLoad?(runId: string): () => void;
};

/**
 * Load runs started from the control API (the UI's console) against the
 * engine's own router: one at a time, saved like `terrarium load`'s.
 */
export class LoadConsole {
  readonly #engine: ConsoleEngine;
  readonly #profiles: () => Record<string, LoadProfileConfig>;
  #active: (ActiveRun & { abort: AbortController; done: Promise<void> }) | null = null;
  #lastError: string | null = null;
  #closed = false;

  constructor(engine: ConsoleEngine, profiles: () => Record<string, LoadProfileConfig>) {
    this.#engine = engine;
    this.#profiles = profiles;
  }

  /** `profile` names one in terrarium.json; `config` gives one whole (checked like terrarium.json's). */
  start(spec: { profile?: string | undefined; config?: unknown }): { id: string } {
    if (this.#closed) throw new Error("the engine is closing");
    if (this.#active) throw new Error(`a load run is going (${this.#active.id}); stop it first`);
    const url = this.#engine.url;
    if (!url) throw new Error("the project's router is not listening, so there is nothing to load");
    let name: string;
    let profile: LoadProfileConfig;
    if (spec.config !== undefined) {
      profile = parseLoadProfile(spec.config);
      // A run is named after what ran: a profile changed before Start says so.
      const saved = spec.profile === undefined ? undefined : this.#profiles()[spec.profile];
      name =
        spec.profile === undefined
          ? "console"
          : saved && JSON.stringify(saved) !== JSON.stringify(profile)
            ? `${spec.profile} (edited)`
            : spec.profile;
    } else if (spec.profile !== undefined) {
      const found = this.#profiles()[spec.profile];
      if (!found) throw new Error(`no load profile "${spec.profile}" in terrarium.json`);
      profile = found;
      name = spec.profile;
    } else {
      throw new Error("give a profile name or a profile");
    }
    const plan = planLoad(name, profile, url);
    const startedAt = Date.now();
    const active = {
      id: newRunId(startedAt),
      profile: name,
      startedAt,
      levels: plan.levels,
      model: plan.model,
      durationMs: plan.durationMs,
      series: [] as RunSecond[],
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    this.#active = active;
    this.#lastError = null;
    const stopSnapshots = this.#engine.snapshotDuringLoad?.(active.id);
    active.done = runLoad({
      id: active.id,
      name,
      profile,
      url,
      dataDir: this.#engine.dataDir,
      engine: this.#engine,
      signal: active.abort.signal,
      onSecond: (s) => active.series.push(s),
    })
      .then(
        () => undefined,
        (e: unknown) => {
          this.#lastError = e instanceof Error ? e.message : String(e);
        },
      )
      .finally(() => {
        stopSnapshots?.();
        if (this.#active === active) this.#active = null;
      });
    return { id: active.id };
  }

  /**
   * Stops the run going now and waits until it is saved: the engine calls
   * this before it closes, so no generator outlives the router it loads.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const a = this.#active;
    if (!a) return;
    a.abort.abort();
    await a.done;
  }

  /** Ends the run going now (what it measured is saved); false when none is. */
  stop(): boolean {
    if (!this.#active) return false;
    this.#active.abort.abort();
    return true;
  }

  /** `since` is the last second the caller has (its `t`): only later ones are sent. */
  status(since = 0): LoadStatus {
    const a = this.#active;
    return {
      active: a && {
        id: a.id,
        profile: a.profile,
        startedAt: a.startedAt,
        levels: a.levels,
        model: a.model,
        durationMs: a.durationMs,
        series: a.series.filter((s) => s.t > since),
      },
      lastError: this.#lastError,
    };
  }

  list(): RunInfo[] {
    return new RunStore(this.#engine.dataDir).list();
  }

  get(id: string): RunRecord | null {
    return new RunStore(this.#engine.dataDir).get(id);
  }
}
