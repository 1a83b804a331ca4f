/**
 * The one control API over the engine. The CLI, the Electron renderer
 * (through the preload) and the browser UI (through the web bridge) all
 * speak exactly this; arguments that cross a trust boundary are parsed with
 * the schemas below before they reach the engine.
 */
import { z } from "zod";
import type { LifecycleState } from "../lifecycle/state-machine.ts";
import type { LogEntry, TransitionRecord } from "../registry/registry.ts";
import type { AlarmRecord, KvEntry, QueryResult } from "../state/state-manager.ts";
import type {
  BusEvent,
  DeliveryRecord,
  ObjectEvents,
  ReceivedEvent,
  TopicInfo,
} from "../event-bus/event-bus.ts";
import type { SocketSummary } from "../router/sockets.ts";
import type { RequestEvent } from "../shared/events.ts";
import type { LoadProfileConfig } from "../config/terrarium.ts";
import type { LoadStatus } from "../load/console.ts";
import type { RunInfo, RunRecord } from "../load/runs.ts";
import { RUN_ID } from "../load/run-id.ts";
import type { MockCallRecord } from "../bindings/mock-calls.ts";
import type {
  BucketInfo,
  BucketListing,
  BucketObjectInfo,
  BucketValue,
  DatabaseInfo,
  DatabaseTable,
} from "../bindings/inspect.ts";
import type { CheckResult, ExportCheck } from "../export/validate.ts";
import type { QueueBatchRecord, QueueStats } from "../queues/broker.ts";
import { workflowCallSchemas, type WorkflowControlApi } from "./workflow-contract.ts";

export type * from "./workflow-contract.ts";
import type { SnapshotInfo } from "../state/snapshots.ts";
import type { KvDiff, StorageDiff, TableDiff } from "../state/storage-diff.ts";
import type { ClassVersion } from "../state/class-versions.ts";
import type { CostEstimate } from "../load/cost.ts";
import type { AwakeBrief, AwakeReason, AwakeReasonKind, WhyAwake } from "../lifecycle/why-awake.ts";

export type {
  QueueBatchRecord,
  QueueStats,
  LifecycleState,
  LogEntry,
  TransitionRecord,
  AlarmRecord,
  KvEntry,
  QueryResult,
  BusEvent,
  DeliveryRecord,
  ObjectEvents,
  ReceivedEvent,
  SocketSummary,
  TopicInfo,
  RequestEvent,
  LoadProfileConfig,
  LoadStatus,
  RunInfo,
  RunRecord,
  MockCallRecord,
  BucketInfo,
  BucketListing,
  BucketObjectInfo,
  BucketValue,
  DatabaseInfo,
  DatabaseTable,
  CheckResult,
  ExportCheck,
  SnapshotInfo,
  StorageDiff,
  TableDiff,
  KvDiff,
  ClassVersion,
  AwakeBrief,
  AwakeReason,
  AwakeReasonKind,
  WhyAwake,
};

export type { CostEstimate };

export const costSchemas = {
  /** Without runId: the traffic since the project started (in this data folder). */
  estimate: z
    .object({ runId: z.string().regex(RUN_ID, "a run id as listRuns gives it").optional() })
    .strict(),
} as const;

export type CostQuery = z.infer<typeof costSchemas.estimate>;

/** A cost estimate and what it covers. */
export interface CostInfo extends CostEstimate {
  scope: "project" | "run";
  runId: string | null;
  /** Start of the window: the run's start, or when counting began for the project. */
  since: number;
}

/** What "hibernate now, then wake" did to an object's memory. */
export interface WakeReport {
  /** False when it was hibernating already (then it was only woken). */
  wasAwake: boolean;
  /** The instance's fields before it hibernated (null: it was not live) and after it woke. */
  before: Record<string, string> | null;
  after: Record<string, string>;
  /** Fields whose value did not survive: the constructor ran again and set them anew (after null: gone). */
  lost: { field: string; before: string; after: string | null }[];
  /** Fields with the same value after waking (the constructor rebuilt them, from storage or constants). */
  kept: string[];
  /** Fields only the new instance has. */
  added: string[];
  /** Hibernatable WebSockets still connected, their attachments restored to the new instance. */
  sockets: { id: string; tags: string[]; attachmentBytes: number }[];
  durationMs: number;
}

export interface UpdateResult {
  ok: boolean;
  /** Live objects moved to the new code. */
  updated: number;
  error: string | null;
  /** Where a refused build points (esbuild's file, project-relative, line and 1-based column), when it does. */
  location?: { file: string; line: number; column: number } | null;
  time: number;
  durationMs: number;
}

export interface ProjectInfo {
  name: string;
  dir: string;
  dataDir: string;
  url: string | null;
  compatibilityDate: string;
  eventBusBinding: string | null;
  /** The named environment that runs (`--env`), or null for the config's top level. */
  env: string | null;
  /** The Workers that run, the project's own first (`-c` adds more). */
  workers: { name: string; configFile: string }[];
}

export interface ClassSummary {
  className: string;
  bindings: string[];
  kind: string | null;
  objects: number;
  live: number;
  byState: Partial<Record<LifecycleState, number>>;
}

export interface ObjectSummary {
  id: string;
  className: string;
  name: string | null;
  state: LifecycleState;
  inFlight: number;
  requests: number;
  storageBytes: number;
  createdAt: number;
  lastActive: number;
  lastError: string | null;
  /** Why it is not hibernating (a few words) and when it will; null while asleep. See whyAwake. */
  awake: AwakeBrief | null;
}

export interface HttpResult {
  status: number;
  statusText: string;
  headers: [string, string][];
  /** The body as text when it is text, else base64 in bodyBase64. */
  body: string;
  bodyBase64: string | null;
  durationMs: number;
}

export type LiveEvent =
  | { type: "transition"; data: TransitionRecord }
  | { type: "log"; data: LogEntry }
  | { type: "request"; data: RequestEvent }
  | { type: "problem"; data: { time: number; message: string; objectId: string | null } }
  /** The project's code was reloaded (a saved change), or the change was refused and the old code kept. */
  | { type: "update"; data: UpdateResult }
  /** A mock endpoint answered an outbound fetch. */
  | { type: "mock"; data: MockCallRecord }
  /** Output of an export check (validateExport) as it runs. */
  | { type: "exportCheck"; data: { check: ExportCheck; chunk: string } };

/** A statement from one of the Inspector's SQL boxes, and its parameters. */
const sqlStatement = {
  sql: z.string().min(1).max(100_000),
  params: z
    .array(z.union([z.string(), z.number(), z.null()]))
    .max(1000)
    .optional(),
};

export const schemas = {
  listObjects: z
    .object({
      className: z.string().max(200).optional(),
      state: z.string().max(40).optional(),
      search: z.string().max(200).optional(),
      offset: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(50_000).optional(),
    })
    .strict(),
  objectId: z.string().regex(/^[0-9a-f]{64}$/, "an object id is 64 lower-case hex digits"),
  page: z
    .object({
      objectId: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
      limit: z.number().int().min(1).max(10_000).optional(),
      before: z.number().int().optional(),
    })
    .strict(),
  query: z
    .object({
      objectId: z.string().regex(/^[0-9a-f]{64}$/),
      ...sqlStatement,
      limit: z.number().int().min(1).max(10_000).optional(),
    })
    .strict(),
  listKv: z
    .object({
      objectId: z.string().regex(/^[0-9a-f]{64}$/),
      prefix: z.string().max(2048).optional(),
      startAfter: z.string().max(2048).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    })
    .strict(),
  sendRequest: z
    .object({
      method: z.string().regex(/^[A-Z]+$/, "an HTTP method in capitals"),
      path: z.string().startsWith("/").max(8192),
      headers: z
        .array(z.tuple([z.string().max(1024), z.string().max(16_384)]))
        .max(200)
        .optional(),
      body: z
        .string()
        .max(10 * 1024 * 1024)
        .optional(),
    })
    .strict(),
} as const;

/** A path inside the project folder, relative and with forward slashes (`src/counter.ts`). */
const projectPath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith("/") && !/^[A-Za-z]:/.test(p) && !p.split(/[\\/]/).includes(".."), {
    message: "a path relative to the project folder, without ..",
  });

export const projectFileSchemas = {
  path: projectPath,
  write: z
    .object({
      path: projectPath,
      text: z.string().max(2 * 1024 * 1024),
    })
    .strict(),
  historyEntry: z
    .object({
      time: z.number().int().min(0),
      request: schemas.sendRequest,
      status: z.number().int().min(0).max(999),
      durationMs: z.number().min(0),
    })
    .strict(),
} as const;

/** A name the user gives a saved request: trimmed, not empty. */
const savedName = z
  .string()
  .trim()
  .min(1, "a name")
  .max(200)
  .refine((n) => ![...n].some((c) => c.charCodeAt(0) < 0x20), {
    message: "a name without control characters",
  });
const savedId = z.uuid("a saved request's id as savedRequests gives it");

export const savedRequestSchemas = {
  /** Saves under `name`; a request already saved under that name is replaced. */
  save: z.object({ name: savedName, request: schemas.sendRequest }).strict(),
  rename: z.object({ id: savedId, name: savedName }).strict(),
  id: savedId,
} as const;

export type SaveRequestSpec = z.infer<typeof savedRequestSchemas.save>;
export type RenameSavedRequestSpec = z.infer<typeof savedRequestSchemas.rename>;

/** A request the user saved in the console under a name, kept in the project's data folder. */
export interface SavedRequest {
  id: string;
  name: string;
  request: HttpRequestSpec;
  savedAt: number;
}

const objectIdSchema = z.string().regex(/^[0-9a-f]{64}$/, "an object id is 64 lower-case hex digits");

/** One object's page in the Inspector: its sockets, events, a request straight to it, SQL that writes. */
export const objectSchemas = {
  events: z
    .object({ objectId: objectIdSchema, limit: z.number().int().min(1).max(1000).optional() })
    .strict(),
  request: schemas.sendRequest.extend({ objectId: objectIdSchema }).strict(),
  writeSql: z
    .object({
      objectId: objectIdSchema,
      ...sqlStatement,
    })
    .strict(),
} as const;

export type ObjectEventsQuery = z.infer<typeof objectSchemas.events>;
export type ObjectRequestSpec = z.infer<typeof objectSchemas.request>;
export type WriteSqlSpec = z.infer<typeof objectSchemas.writeSql>;

export const loadSchemas = {
  runId: z.string().regex(RUN_ID, "a run id as listRuns gives it"),
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

/** An absolute folder path on the machine that runs the engine (POSIX or Windows). */
const absoluteDir = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^(\/|[A-Za-z]:[\\/])/, "an absolute folder path")
  .refine((p) => !p.includes("\0"), { message: "a path without NUL" });
const bindingName = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,99}$/, "a binding name");

export const exportSchemas = {
  plan: z.object({ outDir: absoluteDir.optional() }).strict(),
  /** force: replace a non-empty folder's contents (`terrarium export --force`). */
  write: z.object({ outDir: absoluteDir, force: z.boolean().optional() }).strict(),
  check: z.enum(["typecheck", "dry-run"]),
} as const;

export const externalSchemas = {
  databaseQuery: z
    .object({
      binding: bindingName,
      ...sqlStatement,
      limit: z.number().int().min(1).max(10_000).optional(),
    })
    .strict(),
  bucketList: z
    .object({
      binding: bindingName,
      prefix: z.string().max(1024).optional(),
      cursor: z
        .string()
        .max(4096)
        .regex(/^[A-Za-z0-9_-]*$/, "a cursor as bucketList gave it")
        .optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    })
    .strict(),
  bucketObject: z.object({ binding: bindingName, key: z.string().min(1).max(1024) }).strict(),
  mockCalls: z
    .object({
      limit: z.number().int().min(1).max(10_000).optional(),
      before: z.number().int().min(1).optional(),
    })
    .strict(),
} as const;

export type ExportPlanQuery = z.infer<typeof exportSchemas.plan>;
export type ExportWriteSpec = z.infer<typeof exportSchemas.write>;
export type DatabaseQuerySpec = z.infer<typeof externalSchemas.databaseQuery>;
export type BucketListQuery = z.infer<typeof externalSchemas.bucketList>;
export type BucketObjectQuery = z.infer<typeof externalSchemas.bucketObject>;

/** One file of an export, as the Export view lists it. */
export interface ExportFileInfo {
  /** Relative to the output folder, with "/". */
  path: string;
  bytes: number;
  /** The contents when they are UTF-8 text (every generated file is); null for binary files. */
  text: string | null;
  /** Generated by the export (not one of the project's own files copied). */
  generated: boolean;
}

/** What an export would write, and where. */
export interface ExportPlanInfo {
  projectName: string;
  files: ExportFileInfo[];
  warnings: string[];
  /** The migration the export adds to the project's own, if any. */
  addedMigration: string | null;
  /** The output folder as given, and what is in it now. */
  target: { outDir: string; exists: boolean; entries: number } | null;
  /** The checks validateExport can run with this install's toolchain. */
  checks: ExportCheck[];
}

export interface ExportWriteResult {
  outDir: string;
  files: number;
  bytes: number;
  warnings: string[];
}

/** A mock endpoint of terrarium.json, with the calls it answered since the engine started. */
export interface MockEndpointInfo {
  url: string;
  method: string | null;
  status: number;
  latencyMs: number | [number, number] | null;
  errorRate: number;
  errorStatus: number;
  calls: number;
}

export type ListObjectsQuery = z.infer<typeof schemas.listObjects>;
export type PageQuery = z.infer<typeof schemas.page>;
export type SqlQuery = z.infer<typeof schemas.query>;
export type KvQuery = z.infer<typeof schemas.listKv>;
export type HttpRequestSpec = z.infer<typeof schemas.sendRequest>;

export const templateSchemas = {
  addClass: z
    .object({
      template: z.string().regex(/^[a-z0-9-]{1,64}$/, "a template id as templates() lists it"),
      className: z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,99}$/, "a JavaScript identifier"),
      binding: z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,99}$/, "a JavaScript identifier"),
    })
    .strict(),
} as const;

export type AddClassSpec = z.infer<typeof templateSchemas.addClass>;

/** A class's whole new source, for the file that declares it (an agent's or a script's edit). */
export const codeSchemas = {
  updateClassCode: z
    .object({
      className: z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,99}$/, "a JavaScript identifier"),
      code: z
        .string()
        .min(1)
        .max(2 * 1024 * 1024),
    })
    .strict(),
} as const;

export type UpdateClassCodeSpec = z.infer<typeof codeSchemas.updateClassCode>;

/** What updateClassCode did: the file it wrote and the live update that followed. */
export interface ClassCodeResult extends UpdateResult {
  /** The file that declares the class, relative to the project folder. */
  path: string;
  /** False when the update was refused: the file was put back as it was. */
  written: boolean;
}

const identifier = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,99}$/, "a JavaScript identifier");
const timeout = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 3600 * 1000)
  .nullable();
const policyEdit = z
  .object({ idleAfterMs: timeout.optional(), hibernateAfterMs: timeout.optional() })
  .strict();

/** The Design view's changes to the project (the engine checks them again against the project's schema). */
export const designSchemas = {
  renameClass: z.object({ from: identifier, to: identifier }).strict(),
  deleteClass: z.object({ className: identifier }).strict(),
  saveSettings: z
    .object({
      routes: z.array(z.record(z.string(), z.unknown())).max(1_000).optional(),
      subscriptions: z.array(z.record(z.string(), z.unknown())).max(1_000).optional(),
      lifecycle: policyEdit.optional(),
      classes: z
        .record(
          identifier,
          z
            .object({
              kind: z.string().max(100).nullable().optional(),
              notes: z.string().max(2_000).nullable().optional(),
              lifecycle: policyEdit.optional(),
            })
            .strict(),
        )
        .optional(),
    })
    .strict(),
} as const;

export type RenameClassSpec = z.infer<typeof designSchemas.renameClass>;
export type DeleteClassSpec = z.infer<typeof designSchemas.deleteClass>;
export type SettingsSpec = z.infer<typeof designSchemas.saveSettings>;

/** What renaming or deleting a class changed. */
export interface ClassChangeInfo {
  /** Project files written, relative to the project folder. */
  files: string[];
  notes: string[];
  /** Objects of the class moved (rename) or deleted (delete). */
  objects: number;
}

/** Idle and hibernation timeouts as terrarium.json sets them (absent: the default applies). */
export interface PolicyInfo {
  idleAfterMs?: number;
  hibernateAfterMs?: number;
}

/** An object template (resources/templates) as the Design view offers it. */
export interface TemplateInfo {
  id: string;
  kind: string;
  className: string;
  binding: string;
  description: string;
  /** env bindings the class reads. */
  uses: string[];
  routes: { pattern: string; object: string }[];
  subscriptions: { topic: string; object: string; method: string }[];
  publishes: string[];
}

export interface AddClassResult {
  className: string;
  binding: string;
  /** Files written or changed, relative to the project folder. */
  files: string[];
  notes: string[];
}

export type ProjectFileWrite = z.infer<typeof projectFileSchemas.write>;
export type HistoryEntryInput = z.infer<typeof projectFileSchemas.historyEntry>;

/** One request the console sent, as kept in the project's data folder. */
export interface HistoryEntry extends HistoryEntryInput {
  id: string;
}

export interface EditorTypes {
  /** The `Env` declaration generated from the wrangler config (worker-configuration.d.ts). */
  env: string;
  /** @cloudflare/workers-types' index.d.ts: the project's own copy, else Terrarium's; null when neither is installed. */
  workers: { source: "project" | "terrarium"; version: string; text: string } | null;
}

export interface ProjectFile {
  path: string;
  bytes: number;
}

export interface SourceFile {
  path: string;
  text: string;
}

/** What the Design view draws: the project's classes, routes, subscriptions and external systems. */
export interface DesignInfo {
  name: string;
  /** The entry Worker's source, relative to the project folder (null: an assets-only project). */
  main: string | null;
  configFile: string;
  classes: {
    className: string;
    bindings: string[];
    kind: string | null;
    notes: string | null;
    /** The file that declares `class <className>`, when one does. */
    sourceFile: string | null;
    /** The class's own timeouts from terrarium.json. */
    lifecycle: PolicyInfo;
    /** Objects of the class the registry knows (a rename moves them, a delete deletes them). */
    objects: number;
  }[];
  /** The project-wide timeouts from terrarium.json, and the values in force where neither sets one. */
  lifecycle: PolicyInfo;
  defaultLifecycle: Required<PolicyInfo>;
  routes: { pattern: string; method: string[] | null; binding: string; object: string }[];
  subscriptions: { topic: string; binding: string; object: string; method: string }[];
  /** Configured bindings besides Durable Objects; for a secret (.dev.vars), detail names its file, never its value. */
  external: {
    kind: "d1" | "r2" | "kv" | "queue" | "remote" | "vars";
    binding: string;
    detail: string | null;
  }[];
  eventBusBinding: string | null;
  /** The named environment that runs (`--env`), or null. */
  env: string | null;
  /**
   * Every Worker that runs (the project's own first; `-c` adds more), and
   * each one's service bindings; `running` is false for a Worker a binding
   * names that the project does not run.
   */
  workers: {
    name: string;
    configFile: string | null;
    running: boolean;
    services: { binding: string; service: string; entrypoint: string | null }[];
  }[];
  /** The static assets (wrangler's `assets`), or null when the project has none. */
  assets: {
    /** Relative to the project, ending in "/". */
    directory: string;
    binding: string | null;
    htmlHandling: string;
    notFoundHandling: string;
    runWorkerFirst: boolean | string[];
  } | null;
}

const snapshotId = z.string().regex(/^[0-9a-z]{8,10}-[0-9a-f]{6}$/, "a snapshot id as snapshots() lists it");
const versionHash = z.string().regex(/^[0-9a-f]{64}$/, "a version hash as classVersions() lists it");

/** Time travel of objects' storage, and class versions (docs/snapshots.md). */
export const timeSchemas = {
  takeSnapshot: z.object({ objectId: objectIdSchema, label: z.string().trim().max(200).optional() }).strict(),
  snapshot: z.object({ objectId: objectIdSchema, snapshotId }).strict(),
  /** From a snapshot to another one, or to the object's storage now (`to` absent). */
  diff: z.object({ objectId: objectIdSchema, from: snapshotId, to: snapshotId.optional() }).strict(),
  /** Exactly one of: one object, every object of a class, every object of the project. */
  reset: z.union([
    z.object({ objectId: objectIdSchema }).strict(),
    z.object({ className: identifier }).strict(),
    z.object({ all: z.literal(true) }).strict(),
  ]),
  className: identifier,
  version: z.object({ className: identifier, hash: versionHash }).strict(),
} as const;

export type TakeSnapshotSpec = z.infer<typeof timeSchemas.takeSnapshot>;
export type SnapshotRef = z.infer<typeof timeSchemas.snapshot>;
export type DiffSpec = z.infer<typeof timeSchemas.diff>;
export type ResetSpec = z.infer<typeof timeSchemas.reset>;
export type VersionRef = z.infer<typeof timeSchemas.version>;

export interface RestoreInfo {
  restored: SnapshotInfo;
  /** The storage just before the restore, kept as a snapshot (restore it to undo). */
  before: SnapshotInfo;
}

export interface ResetInfo {
  objects: number;
  /** What each object held, kept as a snapshot. */
  snapshots: SnapshotInfo[];
}

/** A class's versions, oldest first, and the one it runs now. */
export interface ClassVersionsInfo {
  className: string;
  versions: ClassVersion[];
  current: string | null;
  /** Live objects per version hash. */
  live: Record<string, number>;
}

export interface RollbackInfo {
  className: string;
  version: string;
  file: string;
  updated: number;
}

export interface ControlApi extends WorkflowControlApi {
  project(): Promise<ProjectInfo>;
  listClasses(): Promise<ClassSummary[]>;
  listObjects(q?: ListObjectsQuery): Promise<{ total: number; objects: ObjectSummary[] }>;
  getObject(id: string): Promise<ObjectSummary | null>;
  transitions(q?: PageQuery): Promise<TransitionRecord[]>;
  logs(q?: PageQuery): Promise<LogEntry[]>;
  query(q: SqlQuery): Promise<QueryResult>;
  listKv(q: KvQuery): Promise<KvEntry[]>;
  alarms(objectId?: string): Promise<AlarmRecord[]>;
  fireAlarm(objectId: string): Promise<boolean>;
  sendRequest(r: HttpRequestSpec): Promise<HttpResult>;
  hibernate(objectId: string): Promise<boolean>;
  /**
   * Why an object is not hibernating now (requests in flight, a standard
   * WebSocket, waitUntil, blockConcurrencyWhile, an open transaction, an
   * alarm due) and when it will hibernate next; asks its worker (bounded).
   */
  whyAwake(objectId: string): Promise<WhyAwake>;
  /**
   * Hibernates an object now and wakes it at once (its constructor runs
   * again), answering which in-memory fields did not survive. Refused, naming
   * what holds it, while something keeps it awake.
   */
  hibernateAndWake(objectId: string): Promise<WakeReport>;
  terminate(objectId: string): Promise<boolean>;
  topics(): Promise<TopicInfo[]>;
  recentEvents(q?: { limit?: number; before?: number }): Promise<BusEvent[]>;
  deliveries(eventId?: number): Promise<DeliveryRecord[]>;
  /** The project laid out for the Design view. */
  design(): Promise<DesignInfo>;
  /** The project's own files (sources and configuration), without data, dependencies or VCS folders. */
  listFiles(): Promise<ProjectFile[]>;
  readFile(path: string): Promise<SourceFile>;
  /** Writes a text file inside the project folder, creating its folder when needed. */
  writeFile(file: ProjectFileWrite): Promise<ProjectFile>;
  /** What the code editor's TypeScript needs: the Workers runtime types and the project's `Env`. */
  editorTypes(): Promise<EditorTypes>;
  /** Writes the project's `Env` declaration to worker-configuration.d.ts, as `terrarium types` does. */
  writeEnvTypes(): Promise<ProjectFile>;
  /** The console's request history, newest first (kept in the data folder). */
  requestHistory(): Promise<HistoryEntry[]>;
  addRequestHistory(entry: HistoryEntryInput): Promise<HistoryEntry>;
  clearRequestHistory(): Promise<void>;
  /** The console's saved requests, by name (kept in the data folder). */
  savedRequests(): Promise<SavedRequest[]>;
  /** Saves a request under a name; one saved under that name already is replaced. */
  saveRequest(spec: SaveRequestSpec): Promise<SavedRequest>;
  /** Renames a saved request; refused when another one has that name. */
  renameSavedRequest(spec: RenameSavedRequestSpec): Promise<SavedRequest>;
  /** False when no saved request has that id. */
  deleteSavedRequest(id: string): Promise<boolean>;
  /** An object's WebSockets, as the orchestrator holds them (also while the object hibernates). */
  objectSockets(objectId: string): Promise<SocketSummary[]>;
  /** The events an object published and those delivered to it, newest first. */
  objectEvents(q: ObjectEventsQuery): Promise<ObjectEvents>;
  /**
   * Sends a request straight to one object's fetch handler, by its id (waking
   * it as a routed request would), bypassing the entry Worker. WebSocket
   * upgrades are refused: the console's WebSocket tab opens those.
   */
  objectRequest(spec: ObjectRequestSpec): Promise<HttpResult>;
  /**
   * Runs one statement that may write on an object's database. Only while no
   * worker has the database open (the object hibernates or was never
   * started): a live object is refused, so its in-memory state never
   * disagrees with its storage. `query` is always read-only.
   */
  writeSql(spec: WriteSqlSpec): Promise<QueryResult>;
  /** The object templates, one per kind of the AIDevOS design. */
  templates(): Promise<TemplateInfo[]>;
  /**
   * Adds a class from a template: its file, its export from the entry, a
   * binding and migration in the wrangler config, its kind, routes and
   * subscriptions in terrarium.json. The engine reloads as for any saved change.
   */
  addClass(spec: AddClassSpec): Promise<AddClassResult>;
  /**
   * Replaces the source of the file that declares a class and moves its live
   * objects to the new code (Updating), answering when that is done. Code
   * that fails to build or load is refused with the error, the file is put
   * back as it was, and the old code keeps serving.
   */
  updateClassCode(spec: UpdateClassCodeSpec): Promise<ClassCodeResult>;
  /**
   * Renames a class: code, wrangler bindings with a renamed_classes
   * migration, terrarium.json; its objects move with their storage.
   */
  renameClass(spec: RenameClassSpec): Promise<ClassChangeInfo>;
  /** Deletes a class: binding and export gone, a deleted_classes migration; its objects are deleted. */
  deleteClass(spec: DeleteClassSpec): Promise<ClassChangeInfo>;
  /** Saves routes, subscriptions and timeouts to terrarium.json; the engine applies them at once. */
  saveSettings(spec: SettingsSpec): Promise<{ files: string[] }>;
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
  /** What exporting the project would write (to outDir, when given: also what is there now). */
  exportPlan(q?: ExportPlanQuery): Promise<ExportPlanInfo>;
  /**
   * Exports the project into outDir. Refuses a non-empty folder unless force
   * (then replaces its contents but .git, node_modules and .wrangler); never
   * writes outside outDir.
   */
  writeExport(spec: ExportWriteSpec): Promise<ExportWriteResult>;
  /**
   * Runs one check on the project's export (what writeExport writes) in a
   * scratch folder with Terrarium's typescript and wrangler; its output
   * streams as `exportCheck` live events. One check at a time.
   */
  validateExport(check: ExportCheck): Promise<CheckResult>;
  /** The project's D1 databases with their tables. */
  databases(): Promise<DatabaseInfo[]>;
  /** One read-only statement on a D1 database (a statement that writes is refused). */
  databaseQuery(q: DatabaseQuerySpec): Promise<QueryResult>;
  /** The project's R2 buckets with their object counts. */
  buckets(): Promise<BucketInfo[]>;
  /** A bucket's keys in order, a page at a time. */
  bucketList(q: BucketListQuery): Promise<BucketListing>;
  /** One object's metadata, and its value when it is small text; null when the key is absent. */
  bucketObject(q: BucketObjectQuery): Promise<BucketValue | null>;
  /** The mock endpoints of terrarium.json. */
  mocks(): Promise<MockEndpointInfo[]>;
  /** Recent calls the mock endpoints answered, newest first (kept in memory, the last 2,000). */
  mockCalls(q?: { limit?: number; before?: number }): Promise<MockCallRecord[]>;
  /** Every queue the project names or that holds messages: its counts and its consumer's settings. */
  queues(): Promise<QueueStats[]>;
  /** The latest batches delivered from a queue, newest first (the last 200 are kept). */
  queueBatches(q: { queue: string; limit?: number }): Promise<QueueBatchRecord[]>;
  /** An object's snapshots, newest first. */
  snapshots(objectId: string): Promise<SnapshotInfo[]>;
  /** Copies an object's storage (SQL tables and KV) now, live or not, between its events. */
  takeSnapshot(spec: TakeSnapshotSpec): Promise<SnapshotInfo>;
  /** Rows added, changed and removed per table, and KV keys, between two snapshots or a snapshot and now. */
  diffSnapshots(spec: DiffSpec): Promise<StorageDiff>;
  /** Puts a snapshot back: the object stops, its file is replaced, its next event wakes it on it. */
  restoreSnapshot(spec: SnapshotRef): Promise<RestoreInfo>;
  deleteSnapshot(spec: SnapshotRef): Promise<boolean>;
  /** Empties the storage of one object, a class's objects or all of them (each snapshotted first). */
  resetState(spec: ResetSpec): Promise<ResetInfo>;
  /** Every saved version of a class's code. */
  classVersions(className: string): Promise<ClassVersionsInfo>;
  /** One version's source text. */
  classVersionText(ref: VersionRef): Promise<string>;
  /** The version of its class's code a live object runs; null when it has no worker. */
  objectVersion(objectId: string): Promise<string | null>;
  /**
   * Rolls a class back to an earlier version through the live-update path;
   * refused, with the file left as it was, when that version does not build
   * or its constructor throws on the current storage.
   */
  rollbackClass(ref: VersionRef): Promise<RollbackInfo>;
  /** Live transitions, logs and request events, delivered in batches (at most every 50 ms). */
  subscribe(listener: (batch: LiveEvent[]) => void): () => void;
}

/** The methods a bridge forwards: everything but `subscribe`, which is a stream. */
export type ControlMethod = Exclude<keyof ControlApi, "subscribe">;

/** The Queues Inspector's arguments. */
export const queueSchemas = {
  batches: z
    .object({
      queue: z.string().min(1).max(512),
      limit: z.number().int().min(1).max(200).optional(),
    })
    .strict(),
};

const none = z.tuple([]);
const optionalId = z.tuple([schemas.objectId.optional()]);

/**
 * The argument list of every control method, as a bridge receives it. The
 * web bridge and Electron main parse each call with these before it reaches
 * the engine (which parses again: the API is safe to call directly too).
 */
export const callSchemas = {
  project: none,
  listClasses: none,
  listObjects: z.tuple([schemas.listObjects.optional()]),
  getObject: z.tuple([schemas.objectId]),
  transitions: z.tuple([schemas.page.optional()]),
  logs: z.tuple([schemas.page.optional()]),
  query: z.tuple([schemas.query]),
  listKv: z.tuple([schemas.listKv]),
  alarms: optionalId,
  fireAlarm: z.tuple([schemas.objectId]),
  sendRequest: z.tuple([schemas.sendRequest]),
  hibernate: z.tuple([schemas.objectId]),
  whyAwake: z.tuple([schemas.objectId]),
  hibernateAndWake: z.tuple([schemas.objectId]),
  terminate: z.tuple([schemas.objectId]),
  topics: none,
  recentEvents: z.tuple([
    z
      .object({
        limit: z.number().int().min(1).max(10_000).optional(),
        before: z.number().int().optional(),
      })
      .strict()
      .optional(),
  ]),
  deliveries: z.tuple([z.number().int().min(0).optional()]),
  design: none,
  listFiles: none,
  readFile: z.tuple([projectFileSchemas.path]),
  writeFile: z.tuple([projectFileSchemas.write]),
  editorTypes: none,
  writeEnvTypes: none,
  requestHistory: none,
  addRequestHistory: z.tuple([projectFileSchemas.historyEntry]),
  clearRequestHistory: none,
  savedRequests: none,
  saveRequest: z.tuple([savedRequestSchemas.save]),
  renameSavedRequest: z.tuple([savedRequestSchemas.rename]),
  deleteSavedRequest: z.tuple([savedRequestSchemas.id]),
  objectSockets: z.tuple([schemas.objectId]),
  objectEvents: z.tuple([objectSchemas.events]),
  objectRequest: z.tuple([objectSchemas.request]),
  writeSql: z.tuple([objectSchemas.writeSql]),
  templates: none,
  addClass: z.tuple([templateSchemas.addClass]),
  updateClassCode: z.tuple([codeSchemas.updateClassCode]),
  renameClass: z.tuple([designSchemas.renameClass]),
  deleteClass: z.tuple([designSchemas.deleteClass]),
  saveSettings: z.tuple([designSchemas.saveSettings]),
  costEstimate: z.tuple([costSchemas.estimate.optional()]),
  listRuns: none,
  getRun: z.tuple([loadSchemas.runId]),
  startLoad: z.tuple([loadSchemas.startLoad]),
  stopLoad: none,
  loadStatus: z.tuple([loadSchemas.since.optional()]),
  loadProfiles: none,
  saveLoadProfile: z.tuple([loadSchemas.saveLoadProfile]),
  exportPlan: z.tuple([exportSchemas.plan.optional()]),
  writeExport: z.tuple([exportSchemas.write]),
  validateExport: z.tuple([exportSchemas.check]),
  databases: none,
  databaseQuery: z.tuple([externalSchemas.databaseQuery]),
  buckets: none,
  bucketList: z.tuple([externalSchemas.bucketList]),
  bucketObject: z.tuple([externalSchemas.bucketObject]),
  mocks: none,
  mockCalls: z.tuple([externalSchemas.mockCalls.optional()]),
  queues: none,
  queueBatches: z.tuple([queueSchemas.batches]),
  ...workflowCallSchemas,
  snapshots: z.tuple([schemas.objectId]),
  takeSnapshot: z.tuple([timeSchemas.takeSnapshot]),
  diffSnapshots: z.tuple([timeSchemas.diff]),
  restoreSnapshot: z.tuple([timeSchemas.snapshot]),
  deleteSnapshot: z.tuple([timeSchemas.snapshot]),
  resetState: z.tuple([timeSchemas.reset]),
  classVersions: z.tuple([timeSchemas.className]),
  classVersionText: z.tuple([timeSchemas.version]),
  objectVersion: z.tuple([schemas.objectId]),
  rollbackClass: z.tuple([timeSchemas.version]),
} as const satisfies Record<ControlMethod, z.ZodType<unknown[]>>;

export const CONTROL_METHODS = Object.keys(callSchemas) as ControlMethod[];

/**
 * What a client sends over a bridge (the web twin's WebSocket, Electron's
 * IPC): a call with an id to answer, or a request to start or stop the live
 * event stream.
 */
export const bridgeRequestSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("call"),
      id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      method: z.enum(CONTROL_METHODS as [ControlMethod, ...ControlMethod[]]),
      args: z.array(z.unknown()).max(4),
    })
    .strict(),
  z.object({ type: z.literal("subscribe") }).strict(),
  z.object({ type: z.literal("unsubscribe") }).strict(),
]);

export type BridgeRequest = z.infer<typeof bridgeRequestSchema>;

/** An error as it crosses a bridge. `ValidationError` means the call was refused before reaching the engine. */
export interface BridgeError {
  name: string;
  message: string;
}

/** What a bridge sends back. */
export type BridgeReply =
  | { type: "result"; id: number; ok: true; value: unknown }
  | { type: "result"; id: number; ok: false; error: BridgeError }
  | { type: "events"; batch: LiveEvent[] }
  /** Live events were dropped because the client read too slowly; it should reload what it shows. */
  | { type: "dropped"; count: number }
  /** The message could not be understood; the bridge closes the connection after this. */
  | { type: "refused"; reason: string };

/**
 * What Electron's preload puts on `window.terrarium`. In a plain browser (the
 * web twin) it is absent and the renderer talks to the web bridge instead.
 */
export interface TerrariumBridge {
  readonly host: "electron";
  readonly versions: Readonly<{ electron: string; chrome: string; node: string }>;
  readonly api: ControlApi;
}

export interface HostGlobals {
  readonly terrarium?: TerrariumBridge;
}
