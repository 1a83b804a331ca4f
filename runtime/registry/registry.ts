import { join } from "node:path";
import type Database from "better-sqlite3";
import type { LifecycleState } from "../shared/lifecycle-model.ts";
import type { LogEntry, TransitionRecord } from "../shared/events.ts";
import type { Clock } from "../shared/clock.ts";
import { openDatabase } from "../shared/sqlite.ts";

export interface ClassInfo {
  className: string;
  bindings: string[];
  kind: string | null;
  exported: boolean;
}

export interface ObjectRecord {
  id: string;
  className: string;
  name: string | null;
  state: LifecycleState;
  createdAt: number;
  lastActive: number;
  requests: number;
  storageBytes: number;
  lastError: string | null;
}

const MIGRATIONS = [
  `CREATE TABLE objects (
     id TEXT PRIMARY KEY,
     class_name TEXT NOT NULL,
     name TEXT,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_active INTEGER NOT NULL,
     requests INTEGER NOT NULL DEFAULT 0,
     storage_bytes INTEGER NOT NULL DEFAULT 0,
     last_error TEXT
   );
   CREATE INDEX objects_class ON objects(class_name);
   CREATE TABLE transitions (
     seq INTEGER PRIMARY KEY,
     time INTEGER NOT NULL,
     object_id TEXT NOT NULL,
     class_name TEXT NOT NULL,
     from_state TEXT,
     to_state TEXT NOT NULL,
     cause TEXT NOT NULL
   );
   CREATE INDEX transitions_object ON transitions(object_id, seq);
   CREATE TABLE logs (
     seq INTEGER PRIMARY KEY,
     time INTEGER NOT NULL,
     level TEXT NOT NULL,
     source TEXT NOT NULL,
     object_id TEXT,
     message TEXT NOT NULL
   );
   CREATE INDEX logs_object ON logs(object_id, seq);`,
];

function statements(db: Database.Database) {
  const upsertObject = db.prepare<
    [string, string, string | null, string, number, number, number, number, string | null]
  >(
    `INSERT INTO objects (id, class_name, name, state, created_at, last_active, requests, storage_bytes, last_error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET state = excluded.state, last_active = excluded.last_active,
       requests = excluded.requests, storage_bytes = excluded.storage_bytes, last_error = excluded.last_error,
       name = COALESCE(objects.name, excluded.name)`,
  );
  const deleteObject = db.prepare<[string]>("DELETE FROM objects WHERE id = ?");
  const allObjects = db.prepare<[], Record<string, unknown>>("SELECT * FROM objects");
  const insertTransition = db.prepare<[number, number, string, string, string | null, string, string]>(
    "INSERT INTO transitions (seq, time, object_id, class_name, from_state, to_state, cause) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const transitionsOf = db.prepare<[string, number, number], Record<string, unknown>>(
    "SELECT * FROM transitions WHERE object_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
  );
  const recentTransitions = db.prepare<[number, number], Record<string, unknown>>(
    "SELECT * FROM transitions WHERE seq < ? ORDER BY seq DESC LIMIT ?",
  );
  const maxSeq = db.prepare<[], { s: number | null }>("SELECT MAX(seq) AS s FROM transitions");
  const maxLogSeq = db.prepare<[], { s: number | null }>("SELECT MAX(seq) AS s FROM logs");
  const insertLog = db.prepare<[number, number, string, string, string | null, string]>(
    "INSERT INTO logs (seq, time, level, source, object_id, message) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const logsOf = db.prepare<[string, number, number], Record<string, unknown>>(
    "SELECT * FROM logs WHERE object_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
  );
  const recentLogs = db.prepare<[number, number], Record<string, unknown>>(
    "SELECT * FROM logs WHERE seq < ? ORDER BY seq DESC LIMIT ?",
  );
  return {
    upsertObject,
    deleteObject,
    allObjects,
    insertTransition,
    transitionsOf,
    recentTransitions,
    maxSeq,
    maxLogSeq,
    insertLog,
    logsOf,
    recentLogs,
  };
}

function toTransition(r: Record<string, unknown>): TransitionRecord {
  return {
    seq: r.seq as number,
    time: r.time as number,
    objectId: r.object_id as string,
    className: r.class_name as string,
    from: (r.from_state as LifecycleState | null) ?? null,
    to: r.to_state as LifecycleState,
    cause: r.cause as string,
  };
}

function toLog(r: Record<string, unknown>): LogEntry {
  return {
    seq: r.seq as number,
    time: r.time as number,
    level: r.level as string,
    source: r.source as string,
    objectId: (r.object_id as string | null) ?? null,
    message: r.message as string,
  };
}

/**
 * The Service Registry: the project's classes and every object ever
 * created, with its state, persisted in `<data>/registry.sqlite` so a
 * restart knows them. Writes are buffered and flushed in one transaction
 * every 100 ms, so recording thousands of transitions a second stays cheap.
 */
export class ServiceRegistry {
  readonly #db: Database.Database;
  readonly #stmt: ReturnType<typeof statements>;
  readonly #objects = new Map<string, ObjectRecord>();
  #classes: ClassInfo[] = [];
  #dirty = new Set<string>();
  #deleted = new Set<string>();
  #transitions: TransitionRecord[] = [];
  #logs: LogEntry[] = [];
  // NOTE: seqs are given here and written as given, so the one a live event
  // carries is the one a later query returns (the UI dedupes on it).
  #nextSeq: number;
  #nextLogSeq: number;
  #flushTimer: NodeJS.Timeout;
  readonly clock: Clock;

  private constructor(db: Database.Database, clock: Clock) {
    this.#db = db;
    this.clock = clock;
    this.#stmt = statements(db);
    for (const r of this.#stmt.allObjects.all()) {
      const rec: ObjectRecord = {
        id: r.id as string,
        className: r.class_name as string,
        name: (r.name as string | null) ?? null,
        state: r.state as LifecycleState,
        createdAt: r.created_at as number,
        lastActive: r.last_active as number,
        requests: r.requests as number,
        storageBytes: r.storage_bytes as number,
        lastError: (r.last_error as string | null) ?? null,
      };
      this.#objects.set(rec.id, rec);
    }
    this.#nextSeq = (this.#stmt.maxSeq.get()?.s ?? 0) + 1;
    this.#nextLogSeq = (this.#stmt.maxLogSeq.get()?.s ?? 0) + 1;
    this.#flushTimer = setInterval(() => this.flush(), 100);
    this.#flushTimer.unref();
  }

  static open(dataDir: string, clock: Clock): ServiceRegistry {
    return new ServiceRegistry(openDatabase(join(dataDir, "registry.sqlite"), MIGRATIONS), clock);
  }

  setClasses(classes: ClassInfo[]): void {
    this.#classes = classes;
  }

  classes(): readonly ClassInfo[] {
    return this.#classes;
  }

  get(id: string): ObjectRecord | undefined {
    return this.#objects.get(id);
  }

  objects(): IterableIterator<ObjectRecord> {
    return this.#objects.values();
  }

  get size(): number {
    return this.#objects.size;
  }

  /**
   * Records a new object and writes it at once, not at the next flush: its
   * storage file is created right after this, and a process killed in
   * between must not leave a file the registry does not know.
   */
  create(rec: ObjectRecord): ObjectRecord {
    this.#objects.set(rec.id, rec);
    this.#deleted.delete(rec.id);
    this.#dirty.delete(rec.id);
    this.#upsert(rec);
    return rec;
  }

  #upsert(r: ObjectRecord): void {
    this.#stmt.upsertObject.run(
      r.id,
      r.className,
      r.name,
      r.state,
      r.createdAt,
      r.lastActive,
      r.requests,
      r.storageBytes,
      r.lastError,
    );
  }

  /** Marks a record changed; it is written at the next flush. */
  touch(rec: ObjectRecord): void {
    this.#dirty.add(rec.id);
  }

  remove(id: string): void {
    this.#objects.delete(id);
    this.#dirty.delete(id);
    this.#deleted.add(id);
  }

  /**
   * Gives an object a new id and class (its class was renamed), with its
   * transitions and logs. The object must not be live.
   */
  rekey(oldId: string, newId: string, className: string): void {
    const rec = this.#objects.get(oldId);
    if (!rec) throw new Error(`no object with id ${oldId}`);
    if (newId !== oldId && this.#objects.has(newId))
      throw new Error(`an object with id ${newId} already exists`);
    this.flush();
    this.#db.transaction(() => {
      this.#db.prepare("UPDATE objects SET id = ?, class_name = ? WHERE id = ?").run(newId, className, oldId);
      this.#db
        .prepare("UPDATE transitions SET object_id = ?, class_name = ? WHERE object_id = ?")
        .run(newId, className, oldId);
      this.#db.prepare("UPDATE logs SET object_id = ? WHERE object_id = ?").run(newId, oldId);
    })();
    this.#objects.delete(oldId);
    rec.id = newId;
    rec.className = className;
    this.#objects.set(newId, rec);
  }

  recordTransition(t: Omit<TransitionRecord, "seq">): TransitionRecord {
    const rec = { ...t, seq: this.#nextSeq++ };
    this.#transitions.push(rec);
    return rec;
  }

  recordLog(entry: Omit<LogEntry, "seq">): LogEntry {
    const rec = { ...entry, seq: this.#nextLogSeq++ };
    this.#logs.push(rec);
    return rec;
  }

  /** Writes buffered changes in one transaction. */
  flush(): void {
    if (!this.#dirty.size && !this.#deleted.size && !this.#transitions.length && !this.#logs.length) return;
    const dirty = [...this.#dirty];
    const deleted = [...this.#deleted];
    const transitions = this.#transitions;
    const logs = this.#logs;
    this.#dirty = new Set();
    this.#deleted = new Set();
    this.#transitions = [];
    this.#logs = [];
    this.#db.transaction(() => {
      for (const t of transitions) {
        this.#stmt.insertTransition.run(t.seq, t.time, t.objectId, t.className, t.from, t.to, t.cause);
      }
      for (const id of deleted) this.#stmt.deleteObject.run(id);
      for (const id of dirty) {
        const r = this.#objects.get(id);
        if (r) this.#upsert(r);
      }
      for (const l of logs) this.#stmt.insertLog.run(l.seq, l.time, l.level, l.source, l.objectId, l.message);
    })();
  }

  transitions(objectId: string | null, opts: { limit?: number; before?: number } = {}): TransitionRecord[] {
    this.flush();
    const before = opts.before ?? Number.MAX_SAFE_INTEGER;
    const limit = Math.min(opts.limit ?? 200, 10_000);
    const rows = objectId
      ? this.#stmt.transitionsOf.all(objectId, before, limit)
      : this.#stmt.recentTransitions.all(before, limit);
    return rows.map(toTransition).reverse();
  }

  logs(objectId: string | null, opts: { limit?: number; before?: number } = {}): LogEntry[] {
    this.flush();
    const before = opts.before ?? Number.MAX_SAFE_INTEGER;
    const limit = Math.min(opts.limit ?? 200, 10_000);
    const rows = objectId
      ? this.#stmt.logsOf.all(objectId, before, limit)
      : this.#stmt.recentLogs.all(before, limit);
    return rows.map(toLog).reverse();
  }

  close(): void {
    clearInterval(this.#flushTimer);
    this.flush();
    this.#db.close();
  }
}
