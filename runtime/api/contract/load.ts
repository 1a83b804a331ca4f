/**
 * The control API's load runs and what their traffic would cost: saved
 * runs, starting and stopping one, its live status, terrarium.json's load
 * profiles, and the monthly cost estimate. Part of ControlApi
 * (../contract.ts); the schemas parse what crosses a bridge.
 */
import { z } from "zod";
import type { LoadProfileConfig } from "../../config/terrarium.ts";
import type { LoadStatus } from "../../load/console.ts";
import type { RunInfo, RunRecord } from "../../load/runs.ts";
import type { CostEstimate } from "../../load/cost.ts";
import { RUN_ID } from "../../load/run-id.ts";
import { none } from "./common.ts";

export type { LoadProfileConfig, LoadStatus, RunInfo, RunRecord, CostEstimate };

const runId = z.string().regex(RUN_ID, "a run id as listRuns gives it");

export const loadSchemas = {
  runId,
  /** The `t` of the last second a client has: loadStatus sends only later ones. */
  since: z.number().int().min(0).max(1_000_000),
  saveLoadProfile: z
    .object({
      name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "letters, digits, _ . -"),
      profile: z.record(z.string(), z.unknown()),
    })
    .strict(),
  /** A profile from terrarium.json by name, or one given whole (checked like terrarium.json's). */
  startLoad: z
    .object({
      profile: z.string().min(1).max(200).optional(),
      config: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
} as const;

export type StartLoadSpec = z.infer<typeof loadSchemas.startLoad>;
export type SaveLoadProfileSpec = z.infer<typeof loadSchemas.saveLoadProfile>;

export const costSchemas = {
  /** Without runId: the traffic since the project started (in this data folder). */
  estimate: z.object({ runId: runId.optional() }).strict(),
} as const;

export type CostQuery = z.infer<typeof costSchemas.estimate>;

/** A cost estimate and what it covers. */
export interface CostInfo extends CostEstimate {
  scope: "project" | "run";
  runId: string | null;
  /** Start of the window: the run's start, or when counting began for the project. */
  since: number;
}

export interface LoadControlApi {
  /**
   * What the traffic would cost on Cloudflare each month at the same rate:
   * of one load run, or (no runId) of everything since the project started.
   * Priced with runtime/shared/cloudflare-prices.ts, per class, with notes on
   * what would change it.
   */
  costEstimate(q?: CostQuery): Promise<CostInfo>;
  /** Saved load runs (from `terrarium load` and the console), newest first. */
  listRuns(): Promise<RunInfo[]>;
  /** One saved run: its profile, summary and time series. */
  getRun(id: string): Promise<RunRecord | null>;
  /** Starts a load run against this engine's router; one at a time. */
  startLoad(spec: StartLoadSpec): Promise<{ id: string }>;
  /** Ends the run going now (it is saved with what it measured); false when none is. */
  stopLoad(): Promise<boolean>;
  /**
   * The run going now with its seconds so far, for live charts (poll it about
   * once a second); with `since`, only the seconds after that one.
   */
  loadStatus(since?: number): Promise<LoadStatus>;
  /** The load profiles in terrarium.json, as the file holds them now. */
  loadProfiles(): Promise<Record<string, LoadProfileConfig>>;
  /**
   * Saves one load profile to terrarium.json (created when missing, comments
   * kept), checked as the file's are; answers with all the profiles.
   */
  saveLoadProfile(spec: SaveLoadProfileSpec): Promise<Record<string, LoadProfileConfig>>;
}

export const loadCallSchemas = {
  costEstimate: z.tuple([costSchemas.estimate.optional()]),
  listRuns: none,
  getRun: z.tuple([loadSchemas.runId]),
  startLoad: z.tuple([loadSchemas.startLoad]),
  stopLoad: none,
  loadStatus: z.tuple([loadSchemas.since.optional()]),
  loadProfiles: none,
  saveLoadProfile: z.tuple([loadSchemas.saveLoadProfile]),
} as const;
