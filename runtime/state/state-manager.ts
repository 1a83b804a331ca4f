import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { inspect } from "node:util";
import { deserialize } from "node:v8";
import Database from "better-sqlite3";
import type { Clock } from "../shared/clock.ts";
import { openDatabase } from "../shared/sqlite.ts";
import { openSqlite } from "../shared/sqlite-native.ts";
import { jsonSafe, runQuery, type QueryResult } from "../shared/sql-query.ts";
import { BoundedQueries } from "./bounded-query.ts";

export { jsonSafe, type QueryResult };

export interface KvEntry {
  key: string;
  /** The value rendered as text (values are structured-clone data, not JSON). */
  preview: string;
  bytes: number;
}

export interface AlarmRecord {
  objectId: string;
  className: string;
  time: number;
  retryCount: number;
}

const MIGRATIONS = [
  `CREATE TABLE alarms (
     object_id TEXT PRIMARY KEY,
     class_name TEXT NOT NULL,
     time INTEGER NOT NULL,
     retry_count INTEGER NOT NULL DEFAULT 0
   );`,
];

/** Alarm retry policy, as Cloudflare documents it: exponential backoff from 2 s, 6 retries. */
export const ALARM_FIRST_RETRY_MS = 2_000;
export const ALARM_MAX_RETRIES = 6;

/**
 * The State Manager: where each object's SQLite file lives, reading it for
 * the inspector without disturbing the object, deleting it on Terminating,
 * and the schedule of alarms (`<data>/state.sqlite`).
 */
export class StateManager {
  readonly dataDir: string;
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #alarms = new Map<string, AlarmRecord>();
  #alarmTimer: { cancel(): void } | null = null;
  #fire: ((a: AlarmRecord) => Promise<number | null>) | null = null;
  readonly #firing = new Set<string>();
  readonly #readQueries = new BoundedQueries();

  constructor(dataDir: string, clock: Clock) {
    this.dataDir = dataDir;
    this.#clock = clock;
    mkdirSync(join(dataDir, "objects"), { recursive: true });
    this.#db = openDatabase(join(dataDir, "state.sqlite"), MIGRATIONS);
    for (const r of this.#db.prepare("SELECT * FROM alarms").all() as Record<string, unknown>[]) {
      const a: AlarmRecord = {
        objectId: r.object_id as string,
        className: r.class_name as string,
        time: r.time as number,
        retryCount: r.retry_count as number,
      };
      this.#alarms.set(a.objectId, a);
    }
  }

  dbPath(className: string, id: string): string {
    return join(this.dataDir, "objects", className, `${id}.sqlite`);
  }

  storageBytes(className: string, id: string): number {
    let total = 0;
    for (const suffix of ["", "-wal"]) {
      try {
        total += statSync(this.dbPath(className, id) + suffix).size;
      } catch {
        // not there yet
      }
    }
    return total;
  }

  #open(className: string, id: string, readonly: boolean): Database.Database {
    const path = this.dbPath(className, id);
    if (!existsSync(path)) throw new Error(`object ${id} has no storage yet`);
    const db = openSqlite(path, { readonly, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    return db;
  }

  /**
   * Runs one SQL statement on an object's database from outside the object.
   * Read-only unless `allowWrites`; at most `limit` rows come back.
   */
  query(
    className: string,
    id: string,
    sql: string,
    params: unknown[] = [],
    opts: { allowWrites?: boolean; limit?: number } = {},
  ): QueryResult {
    const db = this.#open(className, id, !opts.allowWrites);
    try {
      return runQuery(db, sql, params, opts);
    } finally {
      db.close();
    }
  }

  /**
   * A read-only statement from the Inspector, in a process of its own that is
   * stopped after QUERY_TIMEOUT_MS (bounded-query.ts): one that never ends
   * must not freeze the engine. At most `limit` rows come back.
   */
  async readQuery(
    className: string,
    id: string,
    sql: string,
    params: unknown[] = [],
    opts: { limit?: number } = {},
  ): Promise<QueryResult> {
    const path = this.dbPath(className, id);
    if (!existsSync(path)) throw new Error(`object ${id} has no storage yet`);
    return this.#readQueries.run({ path, sql, params, limit: opts.limit ?? 1000 });
  }

  listKv(
    className: string,
    id: string,
    opts: { prefix?: string; limit?: number; startAfter?: string } = {},
  ): KvEntry[] {
    const db = this.#open(className, id, true);
    try {
      const hasKv = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_cf_KV'").get();
      if (!hasKv) return [];
      const rows = db
        .prepare("SELECT key, value FROM _cf_KV WHERE key > ? AND key >= ? ORDER BY key LIMIT ?")
        .all(opts.startAfter ?? "", opts.prefix ?? "", opts.limit ?? 100) as { key: string; value: Buffer }[];
      return rows
        .filter((r) => !opts.prefix || r.key.startsWith(opts.prefix))
        .map((r) => {
          let preview: string;
          try {
            preview = inspect(deserialize(r.value), { depth: 4, breakLength: 120 });
          } catch {
            preview = `<${r.value.byteLength} bytes that do not deserialize>`;
          }
          return { key: r.key, preview, bytes: r.value.byteLength };
        });
    } finally {
      db.close();
    }
  }

  /** Writes a consistent copy of an object's database to `dest` (VACUUM INTO, safe beside a live writer). */
  snapshot(className: string, id: string, dest: string): void {
    const db = this.#open(className, id, true);
    try {
      db.exec(`VACUUM INTO '${dest.replaceAll("'", "''")}'`);
    } finally {
      db.close();
    }
  }

  /** Moves an object's storage and alarm to a new class and id (its class was renamed). Not while it is live. */
  move(fromClass: string, fromId: string, toClass: string, toId: string): void {
    const src = this.dbPath(fromClass, fromId);
    const dest = this.dbPath(toClass, toId);
    if (existsSync(src)) {
      if (existsSync(dest)) throw new Error(`${dest} already exists`);
      mkdirSync(dirname(dest), { recursive: true });
      for (const suffix of ["", "-wal", "-shm"]) {
        if (existsSync(src + suffix)) renameSync(src + suffix, dest + suffix);
      }
    }
    const alarm = this.#alarms.get(fromId);
    if (alarm) {
      this.setAlarm(fromId, fromClass, null);
      this.setAlarm(toId, toClass, alarm.time);
    }
  }

  /** Deletes an object's storage (Terminating). */
  remove(className: string, id: string): void {
    const path = this.dbPath(className, id);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
    this.setAlarm(id, className, null);
  }

  // ---- alarms ----

  /** Starts firing due alarms through `fire` (which wakes the object and runs alarm()). */
  startAlarms(fire: (a: AlarmRecord) => Promise<number | null>): void {
    this.#fire = fire;
    this.#alarmTimer = this.#clock.setInterval(() => this.#tick(), 50);
    this.#tick();
  }

  /**
   * No alarm fires from here on (Terrarium is stopping), and one that is
   * running and fails keeps its schedule instead of counting a retry: it
   * fires again after the restart.
   */
  stopAlarms(): void {
    this.#alarmTimer?.cancel();
    this.#alarmTimer = null;
    this.#fire = null;
  }

  alarms(objectId?: string): AlarmRecord[] {
    if (objectId !== undefined) {
      const a = this.#alarms.get(objectId);
      return a ? [a] : [];
    }
    return [...this.#alarms.values()];
  }

  setAlarm(objectId: string, className: string, time: number | null): void {
    if (time === null) {
      this.#alarms.delete(objectId);
      this.#db.prepare("DELETE FROM alarms WHERE object_id = ?").run(objectId);
      return;
    }
    const a: AlarmRecord = { objectId, className, time, retryCount: 0 };
    this.#alarms.set(objectId, a);
    this.#db
      .prepare(
        `INSERT INTO alarms (object_id, class_name, time, retry_count) VALUES (?, ?, ?, 0)
         ON CONFLICT(object_id) DO UPDATE SET time = excluded.time, retry_count = 0`,
      )
      .run(objectId, className, time);
  }

  /** Fires an object's pending alarm now, whatever its time. */
  async fireNow(objectId: string): Promise<boolean> {
    const a = this.#alarms.get(objectId);
    if (!a) return false;
    await this.#run(a);
    return true;
  }

  #tick(): void {
    const now = this.#clock.now();
    for (const a of this.#alarms.values()) {
      if (a.time <= now && !this.#firing.has(a.objectId)) void this.#run(a);
    }
  }

  async #run(a: AlarmRecord): Promise<void> {
    if (!this.#fire || this.#firing.has(a.objectId)) return;
    this.#firing.add(a.objectId);
    const scheduled = a.time;
    try {
      // The handler may have set the next alarm; the object reports what it left set.
      const next = await this.#fire(a);
      this.setAlarm(a.objectId, a.className, next);
    } catch {
      if (!this.#fire) return;
      const cur = this.#alarms.get(a.objectId);
      if (cur && cur.time !== scheduled) return;
      if (a.retryCount >= ALARM_MAX_RETRIES) {
        this.setAlarm(a.objectId, a.className, null);
        return;
      }
      const retry: AlarmRecord = {
        ...a,
        retryCount: a.retryCount + 1,
        time: this.#clock.now() + ALARM_FIRST_RETRY_MS * 2 ** a.retryCount,
      };
      this.#alarms.set(a.objectId, retry);
      this.#db
        .prepare("UPDATE alarms SET time = ?, retry_count = ? WHERE object_id = ?")
        .run(retry.time, retry.retryCount, a.objectId);
    } finally {
      this.#firing.delete(a.objectId);
    }
  }

  close(): void {
    this.stopAlarms();
    this.#readQueries.close();
    this.#db.close();
  }
}
