import { AsyncLocalStorage } from "node:async_hooks";
import type Database from "better-sqlite3";
import type * as Comlink from "comlink";
import { markReset, serializeError } from "../shared/comlink-node.ts";
import { runQuery, type QueryResult } from "../shared/sql-query.ts";
import { openSqlite } from "../shared/sqlite-native.ts";
import type { Loaded } from "./load-bundle.ts";
import { DurableObjectId } from "./namespace.ts";
import { openObjectDatabase } from "./object-database.ts";
import { instanceFields, type ObjectProbe } from "./probe.ts";
import type { AlarmInvocation, GatewayApi, GatewayNotice, ObjectIdentity, SocketEvent } from "./protocol.ts";
import type { RpcArgs } from "../shared/rpc-wire.ts";
import { callMember } from "./rpc-values.ts";
import {
  CONTEXT_GONE_MESSAGE,
  closeExports,
  decodeArgs,
  disposeAll,
  encodeRpc,
  type StubHandle,
} from "./rpc-stubs.ts";
import { DurableObjectStorage } from "./storage.ts";
import type { WorkerSockets } from "./worker-sockets.ts";

/** workerd's error when a blockConcurrencyWhile callback holds the object past its bound. */
const BLOCKED_TOO_LONG =
  "A call to blockConcurrencyWhile() in a Durable Object waited for too long. The call was canceled and the Durable Object was reset.";

/** What calls on stubs of an object's functions and RpcTargets fail with once it hibernated or went away. */
const GONE_MESSAGE =
  "The Durable Object that held this RPC stub's target was evicted (it hibernated, was updated or was removed).";

/** Set inside a blockConcurrencyWhile callback while it holds the object's input gate. */
const gateHolder = new AsyncLocalStorage<{ held: boolean }>();
/**
 * blockConcurrencyWhile callbacks running in this thread. Once entered, an
 * AsyncLocalStorage makes Node 20 run promise hooks on every promise of the
 * thread (see trace-scope.ts); it is turned off when the last callback ends,
 * so an object whose constructor used blockConcurrencyWhile does not pay for
 * it on every request after. Code a callback left running sees no holder
 * either way.
 */
let holding = 0;

/** The Durable Object a worker hosts now. */
export interface ActiveObject {
  identity: ObjectIdentity;
  db: Database.Database;
  storage: DurableObjectStorage;
  instance: Record<string, unknown>;
  waitUntil: Set<Promise<unknown>>;
  /** The object's ctx.waitUntil (also what `waitUntil` from cloudflare:workers calls). */
  extend: (p: Promise<unknown>) => void;
}

/**
 * One Durable Object at a time in this thread: its SQLite file and
 * `ctx.storage`, its `ctx` (with workerd's input gate, blockConcurrencyWhile
 * and abort), its instance, and the events run on it (fetch, RPC, alarm,
 * WebSocket handlers, the Inspector's SQL and snapshots). A pooled worker
 * has none until `become`.
 */
export class ObjectHost {
  readonly #gateway: Comlink.Remote<GatewayApi>;
  readonly #notify: (n: GatewayNotice) => void;
  readonly #sockets: WorkerSockets;
  #active: ActiveObject | null = null;
  /** Set while blockConcurrencyWhile runs: events wait for it. */
  #gate: Promise<void> | null = null;
  /** Set when a blockConcurrencyWhile callback threw: the object is being reset. */
  #broken: Error | null = null;
  /** SQL rows counted since the last "rows" notice, for the active object; sent once per turn of the loop. */
  #rows: { objectId: string; read: number; written: number } | null = null;

  constructor(
    gateway: Comlink.Remote<GatewayApi>,
    notify: (n: GatewayNotice) => void,
    sockets: WorkerSockets,
  ) {
    this.#gateway = gateway;
    this.#notify = notify;
    this.#sockets = sockets;
    sockets.beforeOutput = () => this.#active?.storage.flush();
  }

  get active(): ActiveObject | null {
    return this.#active;
  }

  get broken(): boolean {
    return this.#broken !== null;
  }

  /** Whether the object `id` is active here and not broken. */
  hosts(id: string): boolean {
    return this.#active !== null && this.#active.identity.id === id && !this.#broken;
  }

  /** Opens the object's database, builds its ctx and runs its constructor with `Ctor`. */
  async become(identity: ObjectIdentity, Ctor: unknown, loaded: Loaded): Promise<void> {
    const db = openObjectDatabase(identity.dbPath);
    const gateway = this.#gateway;
    const storage = new DurableObjectStorage(
      db,
      { initial: identity.alarm, alarmChanged: (t) => void gateway.setAlarm(t) },
      {
        deleteAllDeletesAlarm: loaded.spec.compatibilityDate >= "2026-02-24",
        onRows: (read, written) => this.#countRows(identity.id, read, written),
        // A commit that fails (a deferred foreign key) resets the object, as on workerd.
        onCommitError: (e) => this.#break(e),
      },
    );
    const waitUntil = new Set<Promise<unknown>>();
    const id = new DurableObjectId(identity.id, identity.name ?? undefined);
    this.#sockets.restore(identity.sockets);
    const extend = (p: Promise<unknown>): void => {
      const tracked = Promise.resolve(p)
        .catch((e: unknown) => console.error("waitUntil promise rejected:", e))
        .finally(() => waitUntil.delete(tracked));
      waitUntil.add(tracked);
    };
    const ctx = {
      id,
      storage,
      waitUntil: extend,
      blockConcurrencyWhile: <T>(fn: () => Promise<T> | T): Promise<T> =>
        this.#blockConcurrencyWhile(fn, identity.blockConcurrencyTimeoutMs),
      ...this.#sockets.ctxMembers(),
      // As workerd: throws the reason at once, fails the running event even
      // if it catches, and resets the object (the next event meets a new one).
      abort: (reason?: string) => {
        const err = new Error(
          reason === undefined ? "Application called abort() to reset Durable Object." : String(reason),
        );
        this.#break(err);
        storage.breakWith(err);
        throw err;
      },
    };
    let instance: Record<string, unknown>;
    try {
      instance = new (Ctor as new (ctx: unknown, env: unknown) => Record<string, unknown>)(ctx, loaded.env);
      this.#active = { identity, db, storage, instance, waitUntil, extend };
      await this.waitGate();
      storage.flush();
      this.throwIfBroken();
    } catch (e) {
      this.#active = null;
      storage.rollback();
      db.close();
      throw e;
    }
  }

  /** Runs the active object's fetch; resolves to what it returned (the caller checks it is a Response). */
  async fetch(active: ActiveObject, request: Request): Promise<unknown> {
    const handler = active.instance.fetch;
    if (typeof handler !== "function") {
      throw new TypeError(`Handler does not export a fetch() function.`);
    }
    return this.#gated(active, () => (handler as (r: Request) => unknown).call(active.instance, request));
  }

  /**
   * Runs an event's handler, then lets its answer out through the output
   * gate: what the handler wrote is committed first (also when it threw: a
   * thrown error does not reset the object), and an object reset meanwhile
   * fails the event.
   */
  async #gated<T>(active: ActiveObject, run: () => Promise<T> | T): Promise<T> {
    let result: T;
    try {
      result = await run();
    } finally {
      active.storage.flush();
    }
    this.throwIfBroken();
    return result;
  }

  /**
   * An RPC call on the object. Stubs in the arguments are disposed when the
   * call returns (as workerd does; `dup()` keeps one); functions and
   * RpcTargets in the result leave as stubs (rpc-stubs.ts).
   */
  async rpc(method: string, args: RpcArgs, kind: "call" | "get"): Promise<unknown> {
    await this.waitGate();
    const active = this.#requireActive();
    const received: StubHandle[] = [];
    try {
      const result = await this.#gated(active, () =>
        callMember(active.instance, method, decodeArgs(args, received), kind),
      );
      return encodeRpc(result);
    } finally {
      disposeAll(received);
    }
  }

  async alarm(info: AlarmInvocation): Promise<number | null> {
    await this.waitGate();
    const active = this.#requireActive();
    const fn = active.instance.alarm;
    active.storage.takeAlarm();
    if (typeof fn === "function")
      await this.#gated(active, () => (fn as (i: AlarmInvocation) => unknown).call(active.instance, info));
    return active.storage.currentAlarm();
  }

  async adminSql(sql: string, params: unknown[]): Promise<QueryResult> {
    await this.waitGate();
    const active = this.#requireActive();
    // The Inspector's SQL runs on what the object committed, never inside its implicit transaction.
    active.storage.flush();
    try {
      return runQuery(active.db, sql, params, { allowWrites: true });
    } finally {
      active.storage.afterExternalWrite();
    }
  }

  async snapshotTo(dest: string): Promise<void> {
    await this.waitGate();
    const active = this.#requireActive();
    active.storage.flush();
    const into = `VACUUM INTO '${dest.replaceAll("'", "''")}'`;
    // VACUUM refuses to run inside a transaction (one held open across an
    // await by storage.transaction()): then a second connection copies what
    // is committed, which leaves that transaction out, as a crash would.
    if (!active.db.inTransaction) {
      active.db.exec(into);
      return;
    }
    const reader = openSqlite(active.identity.dbPath, { readonly: true, fileMustExist: true });
    try {
      reader.exec(into);
    } finally {
      reader.close();
    }
  }

  async wsEvent(e: SocketEvent): Promise<void> {
    await this.waitGate();
    const active = this.#active;
    if (!active) return this.#sockets.deliver(e, undefined, () => this.throwIfBroken());
    await this.#gated(active, () => this.#sockets.deliver(e, active.instance, () => this.throwIfBroken()));
  }

  /**
   * Lets the object go once what it passed to waitUntil settled (or 30 s
   * passed): its sockets' handles, its row counts (sent) and its database.
   */
  async deactivate(): Promise<void> {
    const active = this.#active;
    if (!active) return;
    await Promise.race([
      Promise.allSettled([...active.waitUntil]),
      new Promise((r) => setTimeout(r, 30_000)),
    ]);
    this.#active = null;
    closeExports(new Error(GONE_MESSAGE));
    this.#sockets.clear();
    this.#flushRows();
    active.storage.flush();
    active.db.close();
  }

  probe(): ObjectProbe | null {
    const active = this.#active;
    if (!active) return null;
    return {
      waitUntil: active.waitUntil.size,
      blocking: this.#gate !== null,
      transaction: active.db.inTransaction,
      fields: instanceFields(active.instance),
    };
  }

  #countRows(objectId: string, read: number, written: number): void {
    if (read === 0 && written === 0) return;
    if (this.#rows && this.#rows.objectId !== objectId) this.#flushRows();
    if (!this.#rows) {
      this.#rows = { objectId, read: 0, written: 0 };
      setImmediate(() => this.#flushRows());
    }
    this.#rows.read += read;
    this.#rows.written += written;
  }

  #flushRows(): void {
    const r = this.#rows;
    this.#rows = null;
    if (r) this.#notify({ notice: "rows", ...r });
  }

  #requireActive(): ActiveObject {
    if (!this.#active) throw new Error("worker has no active Durable Object");
    return this.#active;
  }

  /** Fails the running event once the object broke itself (abort(), a failed blockConcurrencyWhile). */
  throwIfBroken(): void {
    if (this.#broken) throw this.#broken;
  }

  /** Waits for the input gate; a broken gate fails the event with the error that broke it. */
  async waitGate(): Promise<void> {
    while (this.#gate) await this.#gate;
    this.throwIfBroken();
  }

  /**
   * workerd's input gate: events wait while the callback runs. A callback
   * that throws breaks the gate and resets the object: the event that called
   * it fails with the callback's error even if it catches it, every event
   * queued behind it (and any that arrives before the reset) fails with the
   * same error without running, and the orchestrator is told, so it ends
   * this worker once those answers are on their way. The worker never
   * crashes itself: an answer racing the thread's exit would make the error
   * the caller sees depend on timing.
   *
   * A call from inside a callback that holds the gate runs at once (workerd
   * nests critical sections): waiting for the gate there would wait for
   * itself, and the object would hang. PartyServer and the Agents SDK both
   * start up inside blockConcurrencyWhile, and onStart code may call it again.
   */
  #blockConcurrencyWhile<T>(fn: () => Promise<T> | T, timeoutMs: number): Promise<T> {
    if (gateHolder.getStore()?.held) return Promise.resolve().then(fn);
    const holder = { held: true };
    const run = (async () => {
      await this.waitGate();
      let timer: ReturnType<typeof setTimeout> | undefined;
      // A callback that holds the gate past the bound resets the object, as
      // on workerd (30 s): the call and every event behind it fail with this.
      const tooLong = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(BLOCKED_TOO_LONG)), timeoutMs);
      });
      holding++;
      try {
        return await Promise.race([gateHolder.run(holder, fn), tooLong]);
      } finally {
        clearTimeout(timer);
        holder.held = false;
        if (--holding === 0) gateHolder.disable();
      }
    })();
    const gate = run.then(
      () => undefined,
      (e: unknown) => this.#break(e),
    );
    this.#gate = gate.finally(() => {
      if (this.#gate === gatePromise) this.#gate = null;
    });
    const gatePromise = this.#gate;
    return run;
  }

  /** The object broke itself (a failed blockConcurrencyWhile, abort()): see #blockConcurrencyWhile. */
  #break(e: unknown): void {
    if (this.#broken) return;
    const err = e instanceof Error ? e : new Error(String(e));
    markReset(err);
    this.#broken = err;
    // Writes not yet committed are lost with the object, as workerd's output gate has it.
    this.#active?.storage.breakWith(err);
    // Calls on stubs of the object's functions and RpcTargets fail, as on workerd.
    closeExports(new Error(CONTEXT_GONE_MESSAGE));
    this.#notify({ notice: "broken", error: serializeError(err) });
  }
}
