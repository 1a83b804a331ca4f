import type { Clock } from "../shared/clock.ts";
import type { GatewayApi } from "../host/protocol.ts";
import { WorkerExitedError, WorkerHost } from "../host/worker-host.ts";
import { ObjectError } from "../shared/errors.ts";
import { forgetCaller } from "./direct-lines.ts";
import {
  busy,
  countLive,
  pinnedByWorker,
  policyOf,
  type CodeVersion,
  type LifecycleOptions,
  type LiveObject,
} from "./live.ts";
import { PoolSizer } from "./pool-sizing.ts";
import type { ObjectSockets } from "./sockets.ts";

/** Thread starts at once: as many as this machine has cores. */
const SPAWN_CONCURRENCY = 2;
/** Warm workers kept for reuse after their objects hibernate. */
const MAX_IDLE_WORKERS = 32;
/** How long after a pooled worker is taken its replacement starts. */
const REFILL_DELAY_MS = 30;

/**
 * How long an object must have been Idle before it lends its worker: half
 * its hibernateAfterMs, at least 2 s and at least idleAfterMs. A loan sooner
 * in the Idle spell fed on itself: with traffic spread over a few hundred
 * objects, each loan made one more object cold, its next request waited for
 * a worker and took another loan, and the whole working set went cold
 * (300 objects served 90 requests/s instead of over 1,000).
 */
function loanAfter(p: { idleAfterMs: number; hibernateAfterMs: number }): number {
  return Math.min(p.hibernateAfterMs, Math.max(p.idleAfterMs, p.hibernateAfterMs / 2, 2_000));
}

/** A worker thread of the pool, the code it has loaded and the object it is (null: none, or an entry Worker's). */
export interface Slot {
  readonly host: WorkerHost;
  object: LiveObject | null;
  code: CodeVersion | null;
}

/** An object as a worker thread serves it (see WorkerPool.watch). */
export interface WorkerObject {
  className: string;
  id: string;
  name: string | null;
}

/** What the pool needs of the Lifecycle Manager. */
export interface PoolDeps {
  readonly clock: Clock;
  /** Read when used: the manager's policies change on a reload. */
  readonly options: Pick<
    LifecycleOptions,
    "poolSize" | "maxLiveObjects" | "memoryLimitMb" | "policy" | "classPolicies"
  >;
  /** The manager's live objects, read to find lenders and count who holds a worker. */
  readonly live: ReadonlyMap<string, LiveObject>;
  readonly sockets: Pick<ObjectSockets, "pinsObject">;
  /** The code new workers load. */
  code(): CodeVersion;
  /** Why the current code does not load (no worker is started or handed out meanwhile), or null. */
  loadFailure(): Error | null;
  /** The error for `code`'s module throwing while it loads (the manager records it). */
  failedToLoad(code: CodeVersion, e: unknown): Error;
  /** The main-thread gateway the worker in `slot` calls. */
  gateway(slot: Slot): GatewayApi;
  /** Hibernates an Active or Idle object and hands back its worker, deactivated (null: none). */
  lend(id: string, cause: string): Promise<WorkerHost | null>;
  /** Logs an error of the pool (a worker that would not start). */
  error(message: string): void;
}

/** What holds requests back, as the load view shows it. */
export interface WorkerSupply {
  waiting: number;
  longestWaitMs: number;
  pooled: number;
  starting: number;
  lending: number;
}

/**
 * The Lifecycle Manager's worker threads: every one it started (its slots),
 * a pool of pre-started ones holding the current code, and the supply that
 * gives an object a worker. Starting a worker thread and loading
 * better-sqlite3 in it costs tens of milliseconds of CPU, so an object that
 * needs a worker takes the first of: a pre-started one from the pool, one an
 * Idle object lends (it hibernates a little early), or a newly started one;
 * at most two threads start at once, as many as this machine has cores.
 * Whichever becomes free first goes to the longest-waiting object.
 */
export class WorkerPool {
  readonly #deps: PoolDeps;
  readonly #slots = new Map<WorkerHost, Slot>();
  #pool: WorkerHost[] = [];
  #waiters: { resolve: (h: WorkerHost) => void; reject: (e: Error) => void; since: number }[] = [];
  #spawning = 0;
  #lending = 0;
  #closed = false;
  #watchers: ((threadId: number, object: WorkerObject | null) => void)[] = [];
  /** The pool's size above poolSize, from the arrival rate (pool-sizing.ts). */
  readonly #sizer: PoolSizer;
  #growLater: { cancel(): void } | null = null;

  constructor(deps: PoolDeps) {
    this.#deps = deps;
    this.#sizer = new PoolSizer(deps.clock);
  }

  /**
   * Calls `fn` each time a worker thread (by `threadId`) is given an object
   * to serve, or none. A fatal error report names only the thread, so this
   * is how a supervised `serve` (runtime/cli/supervised.ts) names the object
   * that ended the process.
   */
  watch(fn: (threadId: number, object: WorkerObject | null) => void): void {
    this.#watchers.push(fn);
  }

  /** Gives the worker in `slot` an object to serve (or none), telling the watchers. */
  assign(slot: Slot, live: LiveObject | null): void {
    slot.object = live;
    if (!slot.host.alive || this.#watchers.length === 0) return;
    const r = live?.record;
    const object = r ? { className: r.className, id: r.id, name: r.name } : null;
    for (const fn of this.#watchers) fn(slot.host.threadId, object);
  }

  /** How many workers are running (pooled, lent, hosting an object or an entry Worker). */
  get size(): number {
    return this.#slots.size;
  }

  /** Whether a worker is, or is becoming, object `id` (and so may have its database open). */
  hosts(id: string): boolean {
    for (const slot of this.#slots.values()) if (slot.object?.record.id === id) return true;
    return false;
  }

  /**
   * Each worker with the object it serves (null: none) and its event-loop
   * busy time so far (ms); `worker` is the same object for as long as the
   * thread lives, so a reader can tell readings of one worker apart.
   */
  *loads(): IterableIterator<{ worker: object; objectId: string | null; cpuUsage(): number }> {
    for (const { host, object } of this.#slots.values())
      yield { worker: host, objectId: object?.record.id ?? null, cpuUsage: () => host.cpuUsage() };
  }

  slots(): IterableIterator<Slot> {
    return this.#slots.values();
  }

  slot(host: WorkerHost): Slot | undefined {
    return this.#slots.get(host);
  }

  /** Stops counting a worker that is being ended (its exit would do it a little later). */
  forget(host: WorkerHost): void {
    this.#slots.delete(host);
  }

  /** Objects waiting for a worker. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** The worker supply now: waiters (and the longest wait so far), pre-started workers, starts and loans under way. */
  supplyNow(): WorkerSupply {
    const first = this.#waiters[0];
    return {
      waiting: this.#waiters.length,
      longestWaitMs: first ? this.#deps.clock.now() - first.since : 0,
      pooled: this.#pool.length,
      starting: this.#spawning,
      lending: this.#lending,
    };
  }

  /** A new worker thread, not yet loaded with any code. */
  spawn(file: string, label: string): WorkerHost {
    const slot: { host: WorkerHost; object: LiveObject | null; code: CodeVersion | null } = {
      host: null as unknown as WorkerHost,
      object: null,
      code: null,
    };
    const host = new WorkerHost({
      file,
      label,
      gateway: this.#deps.gateway(slot),
      resourceLimits: { maxOldGenerationSizeMb: this.#deps.options.memoryLimitMb },
    });
    slot.host = host;
    this.#slots.set(host, slot);
    void host.exited.then(() => {
      this.#slots.delete(host);
      // Its calls on direct lines ended with it.
      forgetCaller(this.#deps.live.values(), host);
    });
    return host;
  }

  /**
   * A worker with `code` loaded. If the module throws while loading, the
   * worker ends and the error says so (see PoolDeps.failedToLoad).
   */
  async spawnLoaded(file: string, label: string, code: CodeVersion = this.#deps.code()): Promise<WorkerHost> {
    const host = this.spawn(file, label);
    try {
      await host.call((api) => api.load(code.spec));
    } catch (e) {
      void host.stop();
      // A worker that died under the call is a crash, not the module's own error.
      if (e instanceof WorkerExitedError) throw e;
      throw this.#deps.failedToLoad(code, e);
    }
    const slot = this.#slots.get(host);
    if (slot) slot.code = code;
    return host;
  }

  #isCurrent(host: WorkerHost): boolean {
    return this.#slots.get(host)?.code === this.#deps.code();
  }

  /**
   * A worker for an object that needs one, without raising the number of
   * live workers past the cap: when it is reached, the least recently used
   * object with nothing in flight hibernates and its worker is handed over
   * (no thread start). Otherwise the first of the supply.
   */
  async forObject(): Promise<WorkerHost> {
    this.#sizer.arrived();
    return (await this.#makeRoom()) ?? (await this.acquire());
  }

  /** A worker from the supply: the pool, a loan, or a thread start. */
  acquire(): Promise<WorkerHost> {
    const failure = this.#deps.loadFailure();
    if (failure) return Promise.reject(failure);
    const pooled = this.#takePooled();
    if (pooled) return Promise.resolve(pooled);
    return new Promise<WorkerHost>((resolve, reject) => {
      this.#waiters.push({ resolve, reject, since: this.#deps.clock.now() });
      this.supply();
    });
  }

  async #makeRoom(): Promise<WorkerHost | null> {
    const cap = this.#deps.options.maxLiveObjects;
    // The object asking is already counted (it is starting).
    if (countLive(this.#deps.live.values()) - 1 < cap) return null;
    const candidates = [...this.#deps.live.values()]
      .filter(
        (l) =>
          l.host &&
          !busy(l) &&
          !l.starting &&
          !pinnedByWorker(l) &&
          (l.record.state === "Active" || l.record.state === "Idle"),
      )
      .sort((a, b) => a.lastEventAt - b.lastEventAt);
    for (const c of candidates) {
      const host = await this.#deps.lend(
        c.record.id,
        `live object cap (${cap}) reached; least recently used`,
      );
      if (host) return host;
    }
    return null;
  }

  #takePooled(): WorkerHost | null {
    let host: WorkerHost | undefined;
    while ((host = this.#pool.shift())) {
      if (host.alive && this.#isCurrent(host)) {
        // Not at once: a thread start takes a core for tens of milliseconds,
        // and the object that took this worker is about to run its first request.
        setTimeout(() => this.refill(), REFILL_DELAY_MS).unref();
        return host;
      }
      void host.stop();
    }
    return null;
  }

  /** A free, deactivated worker: to the longest waiter, else the pool if there is room, else ended. */
  offer(host: WorkerHost): void {
    if (this.#closed || !this.#isCurrent(host) || !host.alive) {
      void host.stop();
      this.supply();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(host);
    else if (this.#pool.length < Math.max(this.#deps.options.poolSize, MAX_IDLE_WORKERS))
      this.#pool.push(host);
    else void host.stop();
  }

  /**
   * An object that has been Idle for a while (see loanAfter), so not part of
   * the working set: lending from busier objects only makes them cold again
   * a moment later.
   */
  #lender(): LiveObject | null {
    const now = this.#deps.clock.now();
    let oldest: LiveObject | null = null;
    for (const l of this.#deps.live.values()) {
      if (l.record.state !== "Idle" || !l.host || busy(l) || l.starting || l.updating) continue;
      if (now - l.idleSince < loanAfter(policyOf(this.#deps.options, l.record.className))) continue;
      if (this.#deps.sockets.pinsObject(l.record.id) || pinnedByWorker(l)) continue;
      if (!oldest || l.lastEventAt < oldest.lastEventAt) oldest = l;
    }
    return oldest;
  }

  /**
   * Works toward a worker for every waiter: loans from Idle objects first,
   * even while thread starts are under way (a loan takes milliseconds, a
   * start tens of them), then thread starts.
   */
  supply(): void {
    if (this.#closed || this.#deps.loadFailure()) return;
    while (this.#waiters.length > this.#lending) {
      const lender = this.#lender();
      if (lender) {
        this.#lending++;
        void this.#deps
          .lend(lender.record.id, "its worker went to a new object (no pre-started worker was free)")
          .then((h) => {
            this.#lending--;
            if (h) this.offer(h);
            else this.supply();
          })
          .catch(() => {
            this.#lending--;
            this.supply();
          });
        continue;
      }
      if (this.#waiters.length <= this.#spawning + this.#lending || this.#spawning >= SPAWN_CONCURRENCY)
        break;
      this.#spawn1();
    }
  }

  #spawn1(): void {
    this.#spawning++;
    void this.spawnLoaded(this.#deps.code().hostFile, "object")
      .then(async (h) => {
        try {
          await h.call((api) => api.warm());
        } catch (e) {
          void h.stop();
          throw e;
        }
        return h;
      })
      .then(
        (h) => this.offer(h),
        (e: unknown) => {
          if (this.#closed) return;
          // A worker that cannot load the code fails the oldest waiter rather than looping.
          this.#waiters.shift()?.reject(e instanceof Error ? e : new Error(String(e)));
          this.#deps.error(`could not start a worker: ${String(e)}`);
        },
      )
      .finally(() => {
        this.#spawning--;
        this.supply();
        this.refill();
      });
  }

  /** Idle objects whose workers could be lent to a new object. */
  #idleSupply(): number {
    const now = this.#deps.clock.now();
    let n = 0;
    for (const l of this.#deps.live.values()) {
      if (l.record.state !== "Idle" || !l.host || busy(l)) continue;
      if (now - l.idleSince >= loanAfter(policyOf(this.#deps.options, l.record.className))) n++;
    }
    return n;
  }

  /**
   * Keeps pre-started workers ready, unless Idle objects or the live cap can
   * supply them: poolSize at all times, and as many as the recent arrival
   * rate asks for (pool-sizing.ts) once arrivals pause.
   */
  refill(): void {
    if (this.#closed || this.#deps.loadFailure() || this.#waiters.length > 0) return;
    const { maxLiveObjects, poolSize } = this.#deps.options;
    const room = maxLiveObjects + poolSize - countLive(this.#deps.live.values()) - this.#idleSupply();
    const target = Math.min(this.#sizer.target(poolSize), room);
    const quietIn = this.#sizer.quietIn();
    const want = quietIn === 0 ? target : Math.min(poolSize, room);
    while (this.#pool.length + this.#spawning < want && this.#spawning < SPAWN_CONCURRENCY) this.#spawn1();
    if (want < target && !this.#growLater) {
      this.#growLater = this.#deps.clock.setTimeout(() => {
        this.#growLater = null;
        this.refill();
      }, quietIn);
    }
  }

  /** New code: the pre-started workers (which hold the old one) end, and new ones start. */
  renew(): void {
    for (const h of this.#pool.splice(0)) void h.stop();
    this.refill();
  }

  /** Fails every object waiting for a worker with `error`. */
  failWaiters(error: Error): void {
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }

  /** From now on no worker starts or is handed out; objects still waiting get a 503. */
  close(): void {
    this.#closed = true;
    this.#growLater?.cancel();
    this.#growLater = null;
    this.failWaiters(new ObjectError("Terrarium is shutting down", 503));
  }

  /** Ends every worker still running (the pool, entry workers, any still starting). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#slots.keys()].map((h) => h.stop()));
  }
}
