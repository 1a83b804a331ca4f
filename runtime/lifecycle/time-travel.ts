import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { StateManager } from "../state/state-manager.ts";
import { SnapshotStore, type SnapshotInfo, type SnapshotReason } from "../state/snapshots.ts";
import { diffStorage, type StorageDiff } from "../state/storage-diff.ts";
import { openSqlite } from "../shared/sqlite-native.ts";
import type { Clock } from "../shared/clock.ts";
import type { LifecycleManager } from "./lifecycle.ts";

/** What restore and reset did. */
export interface RestoreResult {
  restored: SnapshotInfo;
  /** The object's storage just before, kept as a snapshot: restoring it undoes this. */
  before: SnapshotInfo;
}

export interface ResetResult {
  /** Objects whose storage and alarm were deleted. */
  objects: number;
  /** One snapshot per object of what it held (restoring one brings it back). */
  snapshots: SnapshotInfo[];
}

/**
 * Time travel of objects' storage: snapshots (by hand, before live code
 * updates, on a schedule during load runs), their diffs, and restoring or
 * resetting an object. A live object is copied in its own worker, between
 * its events; one whose storage is replaced is stopped first (new events
 * get a 503 for that moment) and wakes on its next event with what was
 * restored. Nothing is deleted without a snapshot of it first.
 */
export class TimeTravel {
  readonly store: SnapshotStore;
  readonly #lifecycle: LifecycleManager;
  readonly #state: StateManager;
  readonly #registry: ServiceRegistry;
  readonly #clock: Clock;

  constructor(deps: {
    dataDir: string;
    lifecycle: LifecycleManager;
    state: StateManager;
    registry: ServiceRegistry;
    clock: Clock;
  }) {
    this.store = new SnapshotStore(deps.dataDir);
    this.#lifecycle = deps.lifecycle;
    this.#state = deps.state;
    this.#registry = deps.registry;
    this.#clock = deps.clock;
  }

  /** Writes a consistent copy of the object's storage to `dest` (an empty database if it has none). */
  async #copy(rec: ObjectRecord, dest: string): Promise<void> {
    try {
      if (await this.#lifecycle.snapshotLive(rec.id, dest)) return;
    } catch {
      // It hibernated (or lost its worker) under the call: its file is whole, copy that.
      rmSync(dest, { force: true });
    }
    if (existsSync(this.#state.dbPath(rec.className, rec.id))) {
      this.#state.snapshot(rec.className, rec.id, dest);
      return;
    }
    openSqlite(dest).close();
  }

  async snapshot(
    rec: ObjectRecord,
    reason: SnapshotReason,
    label: string | null = null,
  ): Promise<SnapshotInfo> {
    return this.store.add(
      {
        objectId: rec.id,
        className: rec.className,
        objectName: rec.name,
        time: this.#clock.now(),
        reason,
        label,
        alarm: this.#state.alarms(rec.id)[0]?.time ?? null,
      },
      (dest) => this.#copy(rec, dest),
    );
  }

  list(rec: ObjectRecord): SnapshotInfo[] {
    return this.store.list(rec.className, rec.id);
  }

  /** From snapshot `from` to snapshot `to`, or to the object's storage now when `to` is null. */
  async diff(rec: ObjectRecord, from: string, to: string | null): Promise<StorageDiff> {
    const a = this.store.file(this.store.get(rec.className, rec.id, from));
    if (to !== null) return diffStorage(a, this.store.file(this.store.get(rec.className, rec.id, to)));
    const scratch = mkdtempSync(join(tmpdir(), "terrarium-diff-"));
    try {
      const now = join(scratch, "now.sqlite");
      await this.#copy(rec, now);
      return diffStorage(a, now);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /**
   * Puts a snapshot back: the object's storage now is kept as a snapshot
   * ("restore"), the object stops (what it has in flight finishes first),
   * its file is replaced and its alarm set as the snapshot had it; its next
   * event wakes it on the restored storage.
   */
  async restore(rec: ObjectRecord, snapshotId: string): Promise<RestoreResult> {
    const snap = this.store.get(rec.className, rec.id, snapshotId);
    const reopen = await this.#lifecycle.closeObject(rec.id, "the object's storage is being restored");
    try {
      const before = await this.snapshot(rec, "restore", `before restoring ${snap.id}`);
      const path = this.#state.dbPath(rec.className, rec.id);
      mkdirSync(dirname(path), { recursive: true });
      // Copied beside the live file, then swapped in, so a crash leaves one whole file or the other.
      const tmp = `${path}.restore-${process.pid}`;
      copyFileSync(this.store.file(snap), tmp);
      for (const suffix of ["-wal", "-shm", "-journal"]) rmSync(path + suffix, { force: true });
      renameSync(tmp, path);
      this.#state.setAlarm(rec.id, rec.className, snap.alarm);
      rec.storageBytes = this.#state.storageBytes(rec.className, rec.id);
      rec.lastError = null;
      this.#registry.touch(rec);
      return { restored: snap, before };
    } finally {
      reopen();
    }
  }

  /**
   * Empties objects' storage: each is snapshotted ("reset"), stopped, and
   * its SQLite file and alarm deleted. The objects stay known (their
   * history too) and wake empty on their next event.
   */
  async reset(recs: ObjectRecord[]): Promise<ResetResult> {
    const snapshots: SnapshotInfo[] = [];
    for (const rec of recs) {
      const reopen = await this.#lifecycle.closeObject(rec.id, "the object's storage is being reset");
      try {
        snapshots.push(await this.snapshot(rec, "reset", "before reset"));
        this.#state.remove(rec.className, rec.id);
        rec.storageBytes = 0;
        rec.lastError = null;
        this.#registry.touch(rec);
      } finally {
        reopen();
      }
    }
    return { objects: recs.length, snapshots };
  }
}
