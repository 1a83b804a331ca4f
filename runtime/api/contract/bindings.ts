/**
 * The control API's small bindings: the KV browser (a namespace's keys,
 * one key's value, metadata and expiry, and edits made on the binding's
 * own store with its own rules), the rate limiters with their counters,
 * and the Analytics Engine datasets. Part of ControlApi (../contract.ts);
 * the schemas parse what crosses a bridge.
 */
import { z } from "zod";

/** A KV namespace: its id (else its binding) names its file; each Worker binding it is listed. */
export interface KvNamespaceInfo {
  /** What the KV methods take as `namespace`: the namespace's id, else its binding. */
  namespace: string;
  /** Each Worker's binding for it (the project's own Worker first). */
  bindings: { worker: string; binding: string }[];
  /** Keys not yet expired, and their values' total bytes. */
  keys: number;
  bytes: number;
}

export interface KvKeyInfo {
  name: string;
  /** Seconds since the epoch, or null for a key that does not expire. */
  expiration: number | null;
  metadata: unknown;
}

export interface KvListing {
  keys: KvKeyInfo[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  cursor: string | null;
}

/** One key's value as the Inspector shows it. */
export interface KvValue {
  key: string;
  size: number;
  expiration: number | null;
  metadata: unknown;
  /** "json": valid UTF-8 that parses as JSON; "text": other valid UTF-8; "binary": the rest. */
  kind: "text" | "json" | "binary";
  /** The value as text (text and json), at most KV_PREVIEW_BYTES of it; null for binary. */
  text: string | null;
  /** True when `text` or the previews hold only the start of the value. */
  truncated: boolean;
  /** The first KV_HEX_BYTES bytes in hex, and the first KV_PREVIEW_BYTES in base64 (for binary values). */
  hex: string;
  base64: string | null;
}

/** How much of a value kvGet returns (text, or base64 of a binary value). */
export const KV_PREVIEW_BYTES = 256 * 1024;
export const KV_HEX_BYTES = 256;

/** A rate limiter: its configuration, the current window's counts per key and its latest calls. */
export interface RateLimiterInfo {
  worker: string;
  binding: string;
  namespaceId: string;
  limit: number;
  period: number;
  /** The current window (ms since the epoch); null when no call fell in it. */
  windowStart: number | null;
  windowEnd: number | null;
  /** Calls allowed in the current window, per key, most first. */
  counts: { key: string; count: number }[];
  /** The latest limit() calls, newest first (the last 200 per binding). */
  recent: { time: number; key: string; allowed: boolean; limit: number; period: number }[];
  /** Calls since the engine started. */
  allowed: number;
  limited: number;
}

/** An Analytics Engine dataset and the data points the engine keeps of it. */
export interface AnalyticsDatasetInfo {
  worker: string;
  binding: string;
  dataset: string;
  /** Data points kept (the last 2,000 of all datasets are kept). */
  points: number;
}

const namespace = z.string().min(1).max(256);
const key = z.string().min(1).max(2048);
const cursor = z
  .string()
  .max(4096)
  .regex(/^[A-Za-z0-9_-]*$/, "a cursor as kvList gave it");

export const bindingSchemas = {
  kvList: z
    .object({
      namespace,
      prefix: z.string().max(2048).optional(),
      cursor: cursor.optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    })
    .strict(),
  kvGet: z.object({ namespace, key }).strict(),
  kvPut: z
    .object({
      namespace,
      key,
      /** The value: text as is, or base64 for bytes. At most 12 MiB here (a bridge message is 16 MiB). */
      value: z.string().max(12 * 1024 * 1024),
      encoding: z.enum(["text", "base64"]).optional(),
      metadata: z.unknown().optional(),
      /** Seconds since the epoch, at least 60 s ahead (the binding checks, with workerd's message). */
      expiration: z.number().int().optional(),
      /** Seconds from now, at least 60. */
      expirationTtl: z.number().int().optional(),
    })
    .strict()
    .refine((p) => p.expiration === undefined || p.expirationTtl === undefined, {
      message: "give expiration or expirationTtl, not both",
    }),
  kvDelete: z.object({ namespace, key }).strict(),
  maskTexts: z.array(z.string().max(1024 * 1024)).max(100),
} as const;

export type KvListQuery = z.infer<typeof bindingSchemas.kvList>;
export type KvKeyQuery = z.infer<typeof bindingSchemas.kvGet>;
export type KvPutSpec = z.infer<typeof bindingSchemas.kvPut>;

export interface BindingControlApi {
  /** The KV namespaces every running Worker binds, with their key counts. */
  kvNamespaces(): Promise<KvNamespaceInfo[]>;
  /** A namespace's keys in order, a page at a time, under a prefix (as `list()`). */
  kvList(q: KvListQuery): Promise<KvListing>;
  /** One key's value, metadata and expiration; null when absent or expired. */
  kvGet(q: KvKeyQuery): Promise<KvValue | null>;
  /** Writes a key as `put()` does, on the same store with the same limits and errors. */
  kvPut(spec: KvPutSpec): Promise<void>;
  /** Deletes a key as `delete()` does. */
  kvDelete(q: KvKeyQuery): Promise<void>;
  /** Every rate limiter of every running Worker, with its counters. */
  rateLimiters(): Promise<RateLimiterInfo[]>;
  /** Every Analytics Engine dataset of every running Worker (the points: `dataPoints`). */
  analyticsDatasets(): Promise<AnalyticsDatasetInfo[]>;
  /**
   * The texts with every secret value masked: for what reaches the UI
   * without the engine (the WebSocket console's messages come straight
   * from the router), so the renderer never needs the values.
   */
  maskTexts(texts: string[]): Promise<string[]>;
}

export const bindingCallSchemas = {
  kvNamespaces: z.tuple([]),
  kvList: z.tuple([bindingSchemas.kvList]),
  kvGet: z.tuple([bindingSchemas.kvGet]),
  kvPut: z.tuple([bindingSchemas.kvPut]),
  kvDelete: z.tuple([bindingSchemas.kvDelete]),
  rateLimiters: z.tuple([]),
  analyticsDatasets: z.tuple([]),
  maskTexts: z.tuple([bindingSchemas.maskTexts]),
} as const;
