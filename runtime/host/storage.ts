import type Database from "better-sqlite3";
import { KvStore, type ListOptions } from "./kv-storage.ts";
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
  constructor(kv: KvStore) {
    this.#kv = kv;
  }
  get(key: string): unknown {
    return this.#kv.get(key);
  }
  put(key: string, value: unknown): void {
    this.#kv.put(key, value);
  }
  delete(key: string): boolean {
    return this.#kv.delete(key);
  }
  list(options: ListOptions = {}): IterableIterator<[string, unknown]> {
    return this.#kv.list(options).entries();
  }
}

/**
 * `ctx.storage`. Every call runs synchronously on the object's SQLite file
 * and returns an already-settled promise, so awaiting it cannot let another
 * event into the object: that is workerd's input gate, for free.
 */
export class DurableObjectStorage {
  readonly sql: SqlStorage;
  readonly kv: SyncKvStorage;
  readonly #db: Database.Database;
  readonly #kvStore: KvStore;
  readonly #alarms: AlarmSink;
  readonly #deleteAllDeletesAlarm: boolean;
  #savepoint = 0;
  /** The alarm lives in the orchestrator's state.sqlite, not in a table the object can see. */
  #alarm: number | null;

  constructor(
    db: Database.Database,
    alarms: AlarmSink,
    opts: { deleteAllDeletesAlarm: boolean; onRows?: (read: number, written: number) => void },
  ) {
    this.#db = db;
    this.#kvStore = new KvStore(db);
    this.sql = new SqlStorage(db, opts.onRows ?? null);
    this.kv = new SyncKvStorage(this.#kvStore);
    this.#alarms = alarms;
    this.#deleteAllDeletesAlarm = opts.deleteAllDeletesAlarm;
    this.#alarm = alarms.initial;
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
      if (typeof keyOrEntries === "string") this.#kvStore.put(keyOrEntries, value);
      else this.#kvStore.putMany(keyOrEntries);
    });
  }

  delete(keys: string | string[], _options?: unknown): Promise<boolean | number> {
    return settle(() => (Array.isArray(keys) ? this.#kvStore.deleteMany(keys) : this.#kvStore.delete(keys)));
  }

  list(options: ListOptions = {}): Promise<Map<string, unknown>> {
    return settle(() => this.#kvStore.list(options));
  }

  /** Deletes every key and every SQL table (and the alarm, from compatibility date 2026-02-24). */
  deleteAll(_options?: unknown): Promise<void> {
    return settle(() => {
      const objects = this.#db
        .prepare(
          "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'",
        )
        .all() as { type: string; name: string }[];
      this.#db.pragma("foreign_keys = OFF");
      this.#db.transaction(() => {
        for (const o of objects)
          this.#db.exec(
            `DROP ${o.type === "view" ? "VIEW" : "TABLE"} IF EXISTS "${o.name.replaceAll('"', '""')}"`,
          );
      })();
      this.#kvStore.reset();
      this.sql.reset();
      if (this.#deleteAllDeletesAlarm) this.#deleteAlarmNow();
    });
  }

  transactionSync<T>(fn: () => T): T {
    try {
      return this.#db.transaction(fn)();
    } catch (e) {
      this.#kvStore.revalidate();
      throw e;
    }
  }

  async transaction<T>(closure: (txn: DurableObjectTransaction) => Promise<T> | T): Promise<T> {
    const name = `_terrarium_txn_${++this.#savepoint}`;
    this.#db.exec(`SAVEPOINT ${name}`);
    const txn = new DurableObjectTransaction(this);
    try {
      const result = await closure(txn);
      if (txn.rolledBack) {
        this.#db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
        this.#kvStore.revalidate();
      } else this.#db.exec(`RELEASE ${name}`);
      return result;
    } catch (e) {
      this.#db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      this.#kvStore.revalidate();
      throw e;
    } finally {
      this.#savepoint--;
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
      // As workerd: an alarm in the past is due now, not at its old time.
      this.#alarm = Math.max(Math.trunc(time), Date.now());
      this.#alarms.alarmChanged(this.#alarm);
    });
  }

  deleteAlarm(_options?: unknown): Promise<void> {
    return settle(() => this.#deleteAlarmNow());
  }

  #deleteAlarmNow(): void {
    this.#alarm = null;
    this.#alarms.alarmChanged(null);
  }

  /** Clears the stored alarm before its handler runs, as workerd does (a handler may set the next one). */
  takeAlarm(): void {
    this.#alarm = null;
  }

  /** The alarm as the object left it (after its alarm() handler ran). */
  currentAlarm(): number | null {
    return this.#alarm;
  }

  sync(): Promise<void> {
    return Promise.resolve();
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
