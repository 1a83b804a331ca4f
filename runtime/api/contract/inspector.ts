/**
 * The control API's Inspector: the project, its classes and objects, their
 * transitions, logs, storage, alarms, sockets and events, a request to the
 * router or straight to one object, and the live event stream. Part of
 * ControlApi (../contract.ts); the schemas parse what crosses a bridge.
 */
import { z } from "zod";
import type { LifecycleState } from "../../shared/lifecycle-model.ts";
import type { LogEntry, RequestEvent, TransitionRecord, UpdateResult } from "../../shared/events.ts";
import type { AlarmRecord, KvEntry, QueryResult } from "../../state/state-manager.ts";
import type {
  BusEvent,
  DeliveryRecord,
  ObjectEvents,
  ReceivedEvent,
  TopicInfo,
} from "../../event-bus/event-bus.ts";
import type { SocketSummary } from "../../router/sockets.ts";
import type { MockCallRecord } from "../../bindings/mock-calls.ts";
import type { ExportCheck } from "../../export/validate.ts";
import type { AwakeBrief, AwakeReason, AwakeReasonKind, WhyAwake } from "../../lifecycle/why-awake.ts";
import { httpRequest, none, objectId, sqlStatement, type HttpRequestSpec } from "./common.ts";

export type {
  LifecycleState,
  LogEntry,
  TransitionRecord,
  RequestEvent,
  AlarmRecord,
  KvEntry,
  QueryResult,
  BusEvent,
  DeliveryRecord,
  ObjectEvents,
  ReceivedEvent,
  TopicInfo,
  SocketSummary,
  MockCallRecord,
  AwakeBrief,
  AwakeReason,
  AwakeReasonKind,
  WhyAwake,
  HttpRequestSpec,
};

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

/** A reload or code update, as it ended: the engine's own record (shared/events.ts). */
export type { UpdateResult };

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
  /**
   * The other Worker (-c) whose object it is; absent for the project's own.
   * Such an object's page has its lifecycle, storage (read-only), alarms and
   * logs; the actions work on the project's own objects only.
   */
  worker?: string;
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
  objectId,
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
  sendRequest: httpRequest,
} as const;

export type ListObjectsQuery = z.infer<typeof schemas.listObjects>;
export type PageQuery = z.infer<typeof schemas.page>;
export type SqlQuery = z.infer<typeof schemas.query>;
export type KvQuery = z.infer<typeof schemas.listKv>;

/** One object's page in the Inspector: its sockets, events, a request straight to it, SQL that writes. */
export const objectSchemas = {
  events: z.object({ objectId, limit: z.number().int().min(1).max(1000).optional() }).strict(),
  request: httpRequest.extend({ objectId }).strict(),
  writeSql: z
    .object({
      objectId,
      ...sqlStatement,
    })
    .strict(),
} as const;

export type ObjectEventsQuery = z.infer<typeof objectSchemas.events>;
export type ObjectRequestSpec = z.infer<typeof objectSchemas.request>;
export type WriteSqlSpec = z.infer<typeof objectSchemas.writeSql>;

export interface InspectorControlApi {
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
  /** Live transitions, logs and request events, delivered in batches (at most every 50 ms). */
  subscribe(listener: (batch: LiveEvent[]) => void): () => void;
}

const optionalId = z.tuple([objectId.optional()]);

export const inspectorCallSchemas = {
  project: none,
  listClasses: none,
  listObjects: z.tuple([schemas.listObjects.optional()]),
  getObject: z.tuple([objectId]),
  transitions: z.tuple([schemas.page.optional()]),
  logs: z.tuple([schemas.page.optional()]),
  query: z.tuple([schemas.query]),
  listKv: z.tuple([schemas.listKv]),
  alarms: optionalId,
  fireAlarm: z.tuple([objectId]),
  sendRequest: z.tuple([schemas.sendRequest]),
  hibernate: z.tuple([objectId]),
  whyAwake: z.tuple([objectId]),
  hibernateAndWake: z.tuple([objectId]),
  terminate: z.tuple([objectId]),
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
  objectSockets: z.tuple([objectId]),
  objectEvents: z.tuple([objectSchemas.events]),
  objectRequest: z.tuple([objectSchemas.request]),
  writeSql: z.tuple([objectSchemas.writeSql]),
} as const;
