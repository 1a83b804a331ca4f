import type Database from "better-sqlite3";
import { KvStore, type ListOptions } from "./kv-storage.ts";
import { ImplicitTransaction } from "./output-gate.ts";
import { SqlStorage } from "./sql-storage.ts";

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e as Error);
  }
}

export interface AlarmSink {
  /** The alarm the State Manager holds for this object when it starts (null: none). */
  initial: number | null;
  /** Tells the orchestrator's State Manager when this object's alarm is due (null: none). */
  alarmChanged(time: number | null): void;
}

/** `ctx.storage.kv`: the synchronous KV API. */
export class SyncKvStorage {
  readonly #kv: KvStore;
  readonly #txn: ImplicitTransaction;
  constructor(kv: KvStore, txn: ImplicitTransaction) {
    this.#kv = kv;
    this.#txn = txn;
  }
  get(key: string): unknown {
    return this.#kv.get(key);
  }
  put(key: string, value: unknown): void {
    this.#txn.beforeWrite();
    this.#kv.put(key, value);
  }
  delete(key: string): boolean {
    this.#txn.beforeWrite();
    return this.#kv.delete(key);
  }
  list(options: ListOptions = {}): IterableIterator<[string, unknown]> {
    return this.#kv.list(options).entries();
  }
}

/**
 * `ctx.storage`. Every call runs synchronously on the object's SQLite file
 * and returns an already-settled promise, so awaiting it cannot let another
 * event into the object: that is workerd's input gate, for free. Writes go
 * into an implicit transaction committed at the end of the turn
 * (output-gate.ts); the object host flushes it before an event's answer
 * leaves the worker and rolls it back when the object is reset.
 */
export class DurableObjectStorage {
  readonly sql: SqlStorage;
  readonly kv: SyncKvStorage;
  readonly #db: Database.Database;
  readonly #kvStore: KvStore;
  readonly #alarms: AlarmSink;
  readonly #deleteAllDeletesAlarm: boolean;
  readonly #txn: ImplicitTransaction;
  #savepoint = 0;
  /** The alarm lives in the orchestrator's state.sqlite, not in a table the object can see. */
  #alarm: number | null;
  /** The alarm as last committed (what a rollback returns to), and whether the orchestrator has yet to hear of #alarm. */
  #committedAlarm: number | null;
  #alarmDirty = false;

  constructor(
    db: Database.Database,
    alarms: AlarmSink,
    opts: {
      deleteAllDeletesAlarm: boolean;
      onRows?: (read: number, written: number) => void;
      /** The commit of the implicit transaction failed: the object must be reset (its writes were lost). */
      onCommitError?: (e: Error) => void;
    },
  ) {
    this.#db = db;
    this.#txn = new ImplicitTransaction(db, {
      onCommit: () => this.#alarmCommitted(),
      onRollback: () => {
        this.#alarm = this.#committedAlarm;
        this.#alarmDirty = false;
        this.#kvStore.revalidate();
        this.sql.reset();
      },
      onCommitError: opts.onCommitError ?? ((e) => this.#txn.break(e)),
    });
    this.#kvStore = new KvStore(db);
    this.sql = new SqlStorage(db, opts.onRows ?? null, () => this.#txn.beforeWrite());
    this.kv = new SyncKvStorage(this.#kvStore, this.#txn);
    this.#alarms = alarms;
    this.#deleteAllDeletesAlarm = opts.deleteAllDeletesAlarm;
    this.#alarm = alarms.initial;
    this.#committedAlarm = alarms.initial;
  }

  /** The output gate: commits the writes made so far (a no-op inside storage.transaction()). */
  flush(): void {
    this.#txn.flush();
  }

  /** The object was reset: what it wrote since the last commit is discarded, and later calls fail with `error`. */
  breakWith(error: Error): void {
    this.#txn.break(error);
  }

  /** Discards uncommitted writes (the object's constructor failed). */
  rollback(): void {
    this.#txn.rollback();
  }

  #alarmCommitted(): void {
    this.#committedAlarm = this.#alarm;
    if (!this.#alarmDirty) return;
    this.#alarmDirty = false;
    this.#alarms.alarmChanged(this.#alarm);
  }

  /** Someone outside the object's code changed its database (the Inspector): drop what was cached about it. */
  afterExternalWrite(): void {
    this.#kvStore.revalidate();
    this.sql.reset();
  }

  get(keys: string | string[], _options?: unknown): Promise<unknown> {
    return settle(() => (Array.isArray(keys) ? this.#kvStore.getMany(keys) : this.#kvStore.get(keys)));
  }

  put(keyOrEntries: string | Record<string, unknown>, value?: unknown, _options?: unknown): Promise<void> {
    return settle(() => {
      this.#txn.beforeWrite();
      if (typeof keyOrEntries === "string") this.#kvStore.put(keyOrEntries, value);
      else this.#kvStore.putMany(keyOrEntries);
    });
  }

  delete(keys: string | string[], _options?: unknown): Promise<boolean | number> {
    return settle(() => {
      this.#txn.beforeWrite();
      return Array.isArray(keys) ? this.#kvStore.deleteMany(keys) : this.#kvStore.delete(keys);
    });
  }

  list(options: ListOptions = {}): Promise<Map<string, unknown>> {
    return settle(() => this.#kvStore.list(options));
  }

  /** Deletes every key and every SQL table (and the alarm, from compatibility date 2026-02-24). */
  deleteAll(_options?: unknown): Promise<void> {
    return settle(() => {
      this.#txn.requireNotBroken();
      if (this.#txn.inExplicit) throw new Error("Cannot call deleteAll() within a transaction");
      // As workerd: deleteAll() is not part of the implicit transaction (it
      // replaces the whole database). What came before it is committed first;
      // everything it held is dropped anyway.
      this.#txn.flush();
      const objects = this.#db
        .prepare(
          "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'",
        )
        .all() as { type: string; name: string }[];
      const foreignKeys = this.#db.pragma("foreign_keys", { simple: true }) as number;
      this.#db.pragma("foreign_keys = OFF");
      try {
        this.#db.transaction(() => {
          for (const o of objects)
            this.#db.exec(
              `DROP ${o.type === "view" ? "VIEW" : "TABLE"} IF EXISTS "${o.name.replaceAll('"', '""')}"`,
            );
        })();
      } finally {
        if (foreignKeys) this.#db.pragma("foreign_keys = ON");
      }
      this.#kvStore.reset();
      this.sql.reset();
      if (this.#deleteAllDeletesAlarm) this.#deleteAlarmNow();
    });
  }

  transactionSync<T>(fn: () => T): T {
    // A savepoint inside the implicit transaction (better-sqlite3 nests it).
    this.#txn.beforeWrite();
    try {
      return this.#db.transaction(fn)();
    } catch (e) {
      this.#kvStore.revalidate();
      throw e;
    }
  }

  async transaction<T>(closure: (txn: DurableObjectTransaction) => Promise<T> | T): Promise<T> {
    this.#txn.enterExplicit();
    const name = `_terrarium_txn_${++this.#savepoint}`;
    this.#db.exec(`SAVEPOINT ${name}`);
    const txn = new DurableObjectTransaction(this);
    try {
      const result = await closure(txn);
      // The object was reset meanwhile: the transaction is gone with it.
      this.#txn.requireNotBroken();
      if (txn.rolledBack) {
        this.#db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
        this.#kvStore.revalidate();
      } else this.#db.exec(`RELEASE ${name}`);
      return result;
    } catch (e) {
      if (!this.#txn.broken) {
        this.#db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
        this.#kvStore.revalidate();
      }
      throw e;
    } finally {
      this.#savepoint--;
      if (!this.#txn.broken) this.#txn.leaveExplicit();
    }
  }

  getAlarm(_options?: unknown): Promise<number | null> {
    return Promise.resolve(this.#alarm);
  }

  setAlarm(scheduled: number | Date, _options?: unknown): Promise<void> {
    return settle(() => {
      const time = scheduled instanceof Date ? scheduled.getTime() : scheduled;
      if (typeof time !== "number" || !Number.isFinite(time)) {
        throw new TypeError("setAlarm() requires a Date or a number of milliseconds since the epoch.");
      }
      this.#txn.beforeWrite();
      // As workerd: an alarm in the past is due now, not at its old time.
      this.#alarm = Math.max(Math.trunc(time), Date.now());
      this.#alarmDirty = true;
    });
  }

  deleteAlarm(_options?: unknown): Promise<void> {
    return settle(() => {
      this.#txn.beforeWrite();
      this.#alarm = null;
      this.#alarmDirty = true;
    });
  }

  /** deleteAll()'s: at once, outside the implicit transaction. */
  #deleteAlarmNow(): void {
    this.#alarm = null;
    this.#committedAlarm = null;
    this.#alarmDirty = false;
    this.#alarms.alarmChanged(null);
  }

  /** Clears the stored alarm before its handler runs, as workerd does (a handler may set the next one). */
  takeAlarm(): void {
    this.#alarm = null;
    this.#committedAlarm = null;
  }

  /** The alarm as the object left it (after its alarm() handler ran). */
  currentAlarm(): number | null {
    return this.#alarm;
  }

  /** Resolves once what was written before it is durable (commits it now, outside storage.transaction()). */
  sync(): Promise<void> {
    return settle(() => {
      this.#txn.requireNotBroken();
      this.#txn.flush();
    });
  }

  getCurrentBookmark(): Promise<string> {
    return Promise.reject(new Error("Point-in-time recovery is not available in Terrarium."));
  }
}

export class DurableObjectTransaction {
  rolledBack = false;
  readonly #storage: DurableObjectStorage;
  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }
  get(keys: string | string[]): Promise<unknown> {
    return this.#storage.get(keys);
  }
  put(keyOrEntries: string | Record<string, unknown>, value?: unknown): Promise<void> {
    return this.#storage.put(keyOrEntries, value);
  }
  delete(keys: string | string[]): Promise<boolean | number> {
    return this.#storage.delete(keys);
  }
  list(options?: ListOptions): Promise<Map<string, unknown>> {
    return this.#storage.list(options);
  }
  rollback(): void {
    this.rolledBack = true;
  }
  getAlarm(): Promise<number | null> {
    return this.#storage.getAlarm();
  }
  setAlarm(t: number | Date): Promise<void> {
    return this.#storage.setAlarm(t);
  }
  deleteAlarm(): Promise<void> {
    return this.#storage.deleteAlarm();
  }
}
