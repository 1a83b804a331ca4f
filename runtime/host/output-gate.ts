import type Database from "better-sqlite3";

/**
 * workerd's automatic write coalescing for a SQLite-backed Durable Object,
 * and the output gate that goes with it.
 *
 * The first write of a turn (a `put`, a writing `sql.exec`, `setAlarm`, ...)
 * opens an implicit transaction; the writes that follow in the same turn of
 * the event loop (synchronous code and the promise jobs it queues) join it,
 * and it commits once that turn is over (`setImmediate`, as workerd's
 * `evalLater`). So a write followed, in the same turn, by `ctx.abort()` or a
 * failing `blockConcurrencyWhile` callback is rolled back, as on workerd.
 *
 * The output gate: an event's answer (a fetch response, an RPC result, an
 * alarm's outcome, a WebSocket message the object sends) leaves the worker
 * only after `flush()` committed the writes before it, so an answered write
 * is on disk (WAL) even if the process is killed right after.
 *
 * `storage.transaction()` is an explicit transaction, as on workerd: it
 * commits the implicit one first, its savepoint is then the outermost, and
 * its release commits (`enterExplicit`/`leaveExplicit`). Writes made while
 * it is open (by its closure or by another event) belong to it.
 */
export class ImplicitTransaction {
  readonly #db: Database.Database;
  /** BEGIN, COMMIT and ROLLBACK prepared once: `exec` would parse them on every turn that writes. */
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  readonly #rollback: Database.Statement;
  readonly #onCommit: () => void;
  readonly #onRollback: () => void;
  readonly #onCommitError: (e: Error) => void;
  #open = false;
  #scheduled = false;
  #explicit = 0;
  #broken: Error | null = null;

  constructor(
    db: Database.Database,
    hooks: {
      /** After a commit (or a flush with nothing open): what was written is durable. */
      onCommit: () => void;
      /** After the transaction was discarded. */
      onRollback: () => void;
      /** COMMIT failed (e.g. a deferred foreign key): the writes were rolled back. */
      onCommitError: (e: Error) => void;
    },
  ) {
    this.#db = db;
    this.#begin = db.prepare("BEGIN");
    this.#commit = db.prepare("COMMIT");
    this.#rollback = db.prepare("ROLLBACK");
    this.#onCommit = hooks.onCommit;
    this.#onRollback = hooks.onRollback;
    this.#onCommitError = hooks.onCommitError;
  }

  get broken(): Error | null {
    return this.#broken;
  }

  /** Throws the error that reset the object, as workerd's storage does once the object is broken. */
  requireNotBroken(): void {
    if (this.#broken) throw this.#broken;
  }

  /** Called before every write: opens the implicit transaction and schedules its commit. */
  beforeWrite(): void {
    this.requireNotBroken();
    if (this.#explicit > 0) return;
    if (!this.#open) {
      // A transaction the object did not open through us (the Inspector's SQL
      // runs between events, after a flush) never holds here; be safe anyway.
      if (!this.#db.inTransaction) this.#begin.run();
      this.#open = true;
    }
    this.#schedule();
  }

  /** storage.transaction() starts: what the implicit transaction holds is committed first. */
  enterExplicit(): void {
    this.requireNotBroken();
    if (this.#explicit === 0) this.flush();
    this.#explicit++;
  }

  /** storage.transaction() ended (its savepoint released or rolled back). */
  leaveExplicit(): void {
    this.#explicit--;
    if (this.#explicit === 0 && !this.#broken) this.#onCommit();
  }

  get inExplicit(): boolean {
    return this.#explicit > 0;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /**
   * Commits what the object wrote so far (the output gate opens). A no-op
   * inside storage.transaction() (its end commits) or once broken.
   */
  flush(): void {
    if (this.#broken || this.#explicit > 0) return;
    if (this.#open) {
      this.#open = false;
      if (!this.#db.open) return;
      try {
        if (this.#db.inTransaction) this.#commit.run();
      } catch (e) {
        if (this.#db.inTransaction) this.#rollback.run();
        this.#onRollback();
        this.#onCommitError(e instanceof Error ? e : new Error(String(e)));
        return;
      }
    }
    this.#onCommit();
  }

  /** Discards what the implicit transaction holds. */
  rollback(): void {
    this.#explicit = 0;
    this.#open = false;
    if (this.#db.open && this.#db.inTransaction) this.#rollback.run();
    this.#onRollback();
  }

  /** The object was reset (abort(), a failed blockConcurrencyWhile): uncommitted writes are lost, later ones refused. */
  break(error: Error): void {
    if (this.#broken) return;
    this.rollback();
    this.#broken = error;
  }
}
