/**
 * The control API's bindings outside Durable Objects: D1 databases, R2
 * buckets, the mock endpoints of terrarium.json and Queues. Part of
 * ControlApi (../contract.ts); the schemas parse what crosses a bridge.
 */
import { z } from "zod";
import type { QueryResult } from "../../state/state-manager.ts";
import type { MockCallRecord } from "../../bindings/mock-calls.ts";
import type {
  BucketInfo,
  BucketListing,
  BucketObjectInfo,
  BucketValue,
  DatabaseInfo,
  DatabaseTable,
} from "../../bindings/inspect.ts";
import type { QueueBatchRecord, QueueStats } from "../../queues/broker.ts";
import type { EmailDetail, EmailSummary } from "../../bindings/email-outbox.ts";
import { bindingName, none, sqlStatement } from "./common.ts";

export type {
  BucketInfo,
  BucketListing,
  BucketObjectInfo,
  BucketValue,
  DatabaseInfo,
  DatabaseTable,
  EmailDetail,
  EmailSummary,
  QueueBatchRecord,
  QueueStats,
};

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

export type DatabaseQuerySpec = z.infer<typeof externalSchemas.databaseQuery>;
export type BucketListQuery = z.infer<typeof externalSchemas.bucketList>;
export type BucketObjectQuery = z.infer<typeof externalSchemas.bucketObject>;

/** The Queues Inspector's arguments. */
export const queueSchemas = {
  batches: z
    .object({
      queue: z.string().min(1).max(512),
      limit: z.number().int().min(1).max(200).optional(),
    })
    .strict(),
};

/** The outbox's arguments (send_email messages, captured). */
export const emailSchemas = {
  list: z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict(),
  one: z.object({ seq: z.number().int().min(1) }).strict(),
};

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

export interface ExternalControlApi {
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
  /** Messages the code sent through send_email bindings (captured, never sent), newest first. */
  emails(q?: { limit?: number }): Promise<EmailSummary[]>;
  /** One captured message with its raw text, text and HTML parts; null when it is gone. */
  email(q: { seq: number }): Promise<EmailDetail | null>;
}

export const externalCallSchemas = {
  databases: none,
  databaseQuery: z.tuple([externalSchemas.databaseQuery]),
  buckets: none,
  bucketList: z.tuple([externalSchemas.bucketList]),
  bucketObject: z.tuple([externalSchemas.bucketObject]),
  mocks: none,
  mockCalls: z.tuple([externalSchemas.mockCalls.optional()]),
  queues: none,
  queueBatches: z.tuple([queueSchemas.batches]),
  emails: z.tuple([emailSchemas.list.optional()]),
  email: z.tuple([emailSchemas.one]),
} as const;
