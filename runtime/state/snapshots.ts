import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { writeJsonFile } from "../shared/json-file.ts";

/** Why a snapshot was taken. */
export type SnapshotReason = "manual" | "update" | "load" | "reset" | "restore";

/** One copy of one object's SQLite file (its SQL tables and its KV entries), with its alarm. */
export interface SnapshotInfo {
  id: string;
  objectId: string;
  className: string;
  objectName: string | null;
  time: number;
  reason: SnapshotReason;
  /** What the user or the engine said about it ("before v3f2a…", a load run's id). */
  label: string | null;
  bytes: number;
  /** The object's alarm when the snapshot was taken (restored with it). */
  alarm: number | null;
}

/** A snapshot id: the time in base 36 and 6 random hex digits, so ids sort by time. */
export const SNAPSHOT_ID = /^[0-9a-z]{8,10}-[0-9a-f]{6}$/;

/** Automatic snapshots (update, load, reset, restore) kept per object; manual ones are never pruned. */
export const KEEP_AUTOMATIC = 20;

export class SnapshotNotFound extends Error {
  override name = "SnapshotNotFound";
}

/**
 * The snapshots of the State Manager, as files: `<data>/snapshots/<Class>/<objectId>/<id>.sqlite`
 * beside `<id>.json` (its SnapshotInfo). A snapshot is written under a temporary name and
 * renamed into place, its description last, so a listing never shows half of one; two
 * processes on one data folder (a server and the CLI) can add snapshots side by side.
 */
export class SnapshotStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, "snapshots");
  }

  #dir(className: string, objectId: string): string {
    return join(this.root, className, objectId);
  }

  /** The SQLite file of a snapshot. */
  file(s: Pick<SnapshotInfo, "className" | "objectId" | "id">): string {
    return join(this.#dir(s.className, s.objectId), `${s.id}.sqlite`);
  }

  /**
   * Adds a snapshot: `write(dest)` writes the copy (VACUUM INTO a file that
   * does not exist yet). Automatic snapshots past KEEP_AUTOMATIC for the
   * object are deleted, oldest first.
   */
  async add(
    meta: Omit<SnapshotInfo, "id" | "bytes">,
    write: (dest: string) => Promise<void> | void,
  ): Promise<SnapshotInfo> {
    const dir = this.#dir(meta.className, meta.objectId);
    mkdirSync(dir, { recursive: true });
    const id = `${meta.time.toString(36).padStart(9, "0")}-${randomBytes(3).toString("hex")}`;
    const tmp = join(dir, `${id}.tmp-${process.pid}`);
    rmSync(tmp, { force: true });
    try {
      await write(tmp);
      if (!existsSync(tmp)) {
        // An object that never stored anything has no file: its snapshot is an empty database.
        throw new Error("the snapshot was not written");
      }
      renameSync(tmp, join(dir, `${id}.sqlite`));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    const info: SnapshotInfo = { ...meta, id, bytes: statSync(join(dir, `${id}.sqlite`)).size };
    writeJsonFile(join(dir, `${id}.json`), info, 2);
    if (meta.reason !== "manual") this.#prune(meta.className, meta.objectId);
    return info;
  }

  /** An object's snapshots, newest first. */
  list(className: string, objectId: string): SnapshotInfo[] {
    const dir = this.#dir(className, objectId);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    const out: SnapshotInfo[] = [];
    for (const n of names) {
      if (!n.endsWith(".json")) continue;
      try {
        const info = JSON.parse(readFileSync(join(dir, n), "utf8")) as SnapshotInfo;
        if (SNAPSHOT_ID.test(info.id) && existsSync(this.file(info))) out.push(info);
      } catch {
        // a description being written by another process, or damaged: not listed
      }
    }
    return out.sort((a, b) => b.time - a.time || b.id.localeCompare(a.id));
  }

  get(className: string, objectId: string, id: string): SnapshotInfo {
    const found = SNAPSHOT_ID.test(id) ? this.list(className, objectId).find((s) => s.id === id) : undefined;
    if (!found) throw new SnapshotNotFound(`object ${objectId} has no snapshot ${id}`);
    return found;
  }

  /** Finds a snapshot by its id alone (the CLI's `restore --snapshot ID`). */
  find(id: string): SnapshotInfo | null {
    if (!SNAPSHOT_ID.test(id)) return null;
    for (const className of safeReaddir(this.root)) {
      for (const objectId of safeReaddir(join(this.root, className))) {
        const f = join(this.root, className, objectId, `${id}.json`);
        if (existsSync(f)) return this.get(className, objectId, id);
      }
    }
    return null;
  }

  remove(className: string, objectId: string, id: string): boolean {
    if (!SNAPSHOT_ID.test(id)) return false;
    const dir = this.#dir(className, objectId);
    const had = existsSync(join(dir, `${id}.json`));
    rmSync(join(dir, `${id}.json`), { force: true });
    rmSync(join(dir, `${id}.sqlite`), { force: true });
    return had;
  }

  /** Moves an object's snapshots with it (its class was renamed). */
  move(fromClass: string, fromId: string, toClass: string, toId: string): void {
    const src = this.#dir(fromClass, fromId);
    if (!existsSync(src)) return;
    const dest = this.#dir(toClass, toId);
    mkdirSync(join(dest, ".."), { recursive: true });
    renameSync(src, dest);
    for (const s of this.list(toClass, toId)) {
      writeJsonFile(join(dest, `${s.id}.json`), { ...s, className: toClass, objectId: toId }, 2);
    }
  }

  #prune(className: string, objectId: string): void {
    const auto = this.list(className, objectId).filter((s) => s.reason !== "manual");
    for (const s of auto.slice(KEEP_AUTOMATIC)) this.remove(className, objectId, s.id);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
