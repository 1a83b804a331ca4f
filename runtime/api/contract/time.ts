/**
 * The control API's time travel: snapshots of an object's storage, diffs,
 * restore and reset, and class versions with rollback (docs/snapshots.md).
 * Part of ControlApi (../contract.ts); the schemas parse what crosses a
 * bridge.
 */
import { z } from "zod";
import type { SnapshotInfo } from "../../state/snapshots.ts";
import type { KvDiff, StorageDiff, TableDiff } from "../../state/storage-diff.ts";
import type { ClassVersion } from "../../state/class-versions.ts";
import { identifier, objectId } from "./common.ts";

export type { SnapshotInfo, KvDiff, StorageDiff, TableDiff, ClassVersion };

const snapshotId = z.string().regex(/^[0-9a-z]{8,10}-[0-9a-f]{6}$/, "a snapshot id as snapshots() lists it");
const versionHash = z.string().regex(/^[0-9a-f]{64}$/, "a version hash as classVersions() lists it");

export const timeSchemas = {
  takeSnapshot: z.object({ objectId, label: z.string().trim().max(200).optional() }).strict(),
  snapshot: z.object({ objectId, snapshotId }).strict(),
  /** From a snapshot to another one, or to the object's storage now (`to` absent). */
  diff: z.object({ objectId, from: snapshotId, to: snapshotId.optional() }).strict(),
  /** Exactly one of: one object, every object of a class, every object of the project. */
  reset: z.union([
    z.object({ objectId }).strict(),
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

export interface TimeControlApi {
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
}

export const timeCallSchemas = {
  snapshots: z.tuple([objectId]),
  takeSnapshot: z.tuple([timeSchemas.takeSnapshot]),
  diffSnapshots: z.tuple([timeSchemas.diff]),
  restoreSnapshot: z.tuple([timeSchemas.snapshot]),
  deleteSnapshot: z.tuple([timeSchemas.snapshot]),
  resetState: z.tuple([timeSchemas.reset]),
  classVersions: z.tuple([timeSchemas.className]),
  classVersionText: z.tuple([timeSchemas.version]),
  objectVersion: z.tuple([objectId]),
  rollbackClass: z.tuple([timeSchemas.version]),
} as const;
