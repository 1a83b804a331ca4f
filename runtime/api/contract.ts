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
import type { BusEvent, DeliveryRecord, TopicInfo } from "../event-bus/event-bus.ts";
import type { RequestEvent } from "../shared/events.ts";

export type {
  LifecycleState,
  LogEntry,
  TransitionRecord,
  AlarmRecord,
  KvEntry,
  QueryResult,
  BusEvent,
  DeliveryRecord,
  TopicInfo,
  RequestEvent,
};

export interface ProjectInfo {
  name: string;
  dir: string;
  dataDir: string;
  url: string | null;
  compatibilityDate: string;
  eventBusBinding: string | null;
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
  | { type: "problem"; data: { time: number; message: string; objectId: string | null } };

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
      sql: z.string().min(1).max(100_000),
      params: z
        .array(z.union([z.string(), z.number(), z.null()]))
        .max(1000)
        .optional(),
      allowWrites: z.boolean().optional(),
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

export type ListObjectsQuery = z.infer<typeof schemas.listObjects>;
export type PageQuery = z.infer<typeof schemas.page>;
export type SqlQuery = z.infer<typeof schemas.query>;
export type KvQuery = z.infer<typeof schemas.listKv>;
export type HttpRequestSpec = z.infer<typeof schemas.sendRequest>;

export interface ControlApi {
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
  terminate(objectId: string): Promise<boolean>;
  topics(): Promise<TopicInfo[]>;
  recentEvents(q?: { limit?: number; before?: number }): Promise<BusEvent[]>;
  deliveries(eventId?: number): Promise<DeliveryRecord[]>;
  /** Live transitions, logs and request events, delivered in batches (at most every 50 ms). */
  subscribe(listener: (batch: LiveEvent[]) => void): () => void;
}
