import type { MessagePort } from "node:worker_threads";
import { withStubPorts, type RpcArgs } from "../shared/rpc-wire.ts";
import * as Comlink from "comlink";
import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { StateManager } from "../state/state-manager.ts";
import type { Clock } from "../shared/clock.ts";
import type { EngineEvents } from "../shared/events.ts";
import { Namespaces, type ObjectAddress } from "../registry/namespaces.ts";
import { bodyTransfer, pathOf } from "../host/http-serialize.ts";
import { errorText } from "../shared/errors.ts";
import type {
  DirectReport,
  GatewayApi,
  LogRecord,
  ObjectIdentity,
  SerializedRequest,
  SerializedResponse,
  WorkerApi,
} from "../host/protocol.ts";
import { WorkerExitedError, type WorkerHost } from "../host/worker-host.ts";
import { isReset } from "../shared/comlink-node.ts";
import type { ShardingPolicyConfig } from "../config/terrarium.ts";
import { Sharding, type ShardGroupView } from "./sharding.ts";
import { noLinks, type WorkerLinks } from "./workers.ts";
import type { ObjectSockets } from "./sockets.ts";
import {
  canTransition,
  IllegalTransitionError,
  pathBetween,
  type LifecycleState,
} from "../shared/lifecycle-model.ts";
import type { QueryResult } from "../shared/sql-query.ts";
import type { WorkflowCall } from "../bindings/workflow-calls.ts";
import type { DataPoint } from "../bindings/analytics-engine.ts";
import type { CapturedEmail } from "../bindings/send-email.ts";
import type { WhyAwake } from "./why-awake.ts";
import { buildGateway, type GatewayHub } from "./gateway.ts";
import { openPeer, recordDirect } from "./direct-lines.ts";
import { WorkerPool, type WorkerObject, type WorkerSupply } from "./pool.ts";
import { bounded, deadlineRace } from "./timing.ts";
import { EntryWorkers } from "./entry.ts";
import { Closures } from "./closures.ts";
import { Inspection } from "./inspect.ts";
import {
  updateCode,
  type BeforeUpdate,
  type UpdateHub,
  type UpdateProbe,
  type UpdateResult,
} from "./code-update.ts";
import {
  busy,
  countLive,
  ModuleLoadError,
  ObjectError,
  policyOf,
  type CodeVersion,
  type LifecycleOptions,
  type LifecyclePolicy,
  type LiveObject,
} from "./live.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import type { TraceStore } from "../state/traces.ts";
import { beginObjectSpan, directSpans, endObjectSpan, logToTrace, mockSpan } from "./tracing.ts";

export {
  defaultLifecycleOptions,
  ModuleLoadError,
  ObjectError,
  type CodeVersion,
  type LifecycleOptions,
  type LifecyclePolicy,
} from "./live.ts";

/** Nothing in flight for this long ends a Processing span. */
const SPAN_GAP_MS = 50;
const WATCHDOG_MS = 50;
/** How long an object with nothing in flight gets to deactivate (close its SQLite file) when Terrarium stops. */
const DEACTIVATE_MS = 1_000;

/** An object whose events were still running when Terrarium stopped. */
export interface CutShort {
  className: string;
  id: string;
  name: string | null;
  /** Events (requests, RPC calls, alarms, deliveries) it had in flight. */
  events: number;
}

export type { BeforeUpdate, UpdateProbe, UpdateResult } from "./code-update.ts";
export type { WorkerObject } from "./pool.ts";

export interface Dispatch {
  binding?: string;
  className: string;
  id: string;
  name: string | null;
  kind: "fetch" | "rpc" | "alarm" | "event";
  cause: string;
  /**
   * The span the event is run under (docs/traces.md); null: it starts a
   * trace of its own (an alarm, a delivery no traced request caused);
   * absent: it is not traced.
   */
  trace?: TraceContext | null | undefined;
}

/**
 * The Lifecycle Manager: drives every object through the seed's state
 * machine, gives it a worker thread when it needs one (from a pool of
 * pre-started workers), takes it away when it idles (Hibernating) or when
 * too many are live, and watches for objects that spin or crash.
 */
/** Publishes an event on the project's Event Bus, from the object that sent it (null: the entry Worker). */
export type Publish = (
  topic: string,
  data: unknown,
  from: ObjectRecord | null,
  trace?: TraceContext,
) => Promise<{ id: number }>;

const noBus: Publish = () =>
  Promise.reject(new Error("this project has no event bus (declare one in terrarium.json)"));

export class LifecycleManager {
  readonly #registry: ServiceRegistry;
  readonly #state: StateManager;
  readonly #clock: Clock;
  readonly #events: EngineEvents;
  readonly #opts: LifecycleOptions;
  readonly #live = new Map<string, LiveObject>();
  #code: CodeVersion;
  readonly #pool: WorkerPool;
  readonly #entries: EntryWorkers;
  #sweeper: { cancel(): void };
  #dog: NodeJS.Timeout;
  #closed = false;
  /** The current code's bindings and namespaces (replaced with the code). */
  #namespaces: Namespaces;
  readonly #sharding: Sharding;
  readonly #closures: Closures;
  readonly #inspection: Inspection;
  /** Why objects' workers were lost lately (see #lose). */
  readonly #lostWhy = new Map<string, { message: string; at: number }>();
  readonly #sockets: ObjectSockets;
  /** Calls served on direct lines between workers, since start. */
  directCalls = 0;
  /** Delivers `env.<bus>.publish` from a worker. */
  readonly #publish: Publish;
  /** Set by the engine: where spans go (docs/traces.md); null: nothing is traced. */
  tracer: TraceStore | null = null;
  /** SQL rows an object read and wrote through ctx.storage.sql (the cost of a run). */
  readonly #rows: (objectId: string, read: number, written: number) => void;
  /** Where this Worker's service bindings and bindings to other Workers' classes lead (workers.ts). */
  readonly #links: WorkerLinks;
  /** Keeps a data point written to an Analytics Engine dataset. */
  readonly #dataPoint: (point: DataPoint) => void;
  /** Keeps a message a send_email binding sent (the engine's outbox). */
  readonly #email: (message: CapturedEmail) => Promise<void>;
  /** Counts a rate limiter's call (`env.<ratelimit>.limit()`): whether it is allowed. */
  readonly #rateLimit: (binding: string, key: string, limit: number, period: number) => boolean;
  readonly #beforeUpdate: BeforeUpdate;
  /** Persists messages a producer binding sent (the Queues broker). */
  readonly #queueSend: GatewayApi["queueSend"];
  /** The project's Workflows (`env.<workflow binding>` and running instances' steps). */
  readonly #workflow: (call: WorkflowCall) => Promise<unknown>;

  constructor(deps: {
    registry: ServiceRegistry;
    state: StateManager;
    clock: Clock;
    events: EngineEvents;
    options: LifecycleOptions;
    code: CodeVersion;
    sockets: ObjectSockets;
    /** The Event Bus's publish; without one, a worker's publish is refused. */
    publish?: Publish | undefined;
    /** The Queues broker's send; without one, a producer's send is refused. */
    queueSend?: GatewayApi["queueSend"] | undefined;
    /** The project's Workflows; without them, a workflow call is refused. */
    workflow?: ((call: WorkflowCall) => Promise<unknown>) | undefined;
    /** Runs before live objects move to new code (code-update.ts; the engine snapshots them). */
    beforeUpdate?: BeforeUpdate | undefined;
    /** Where service bindings and Durable Object bindings with a script_name lead; none without. */
    links?: WorkerLinks | undefined;
    /** Told the SQL rows each object reads and writes. */
    rows?: ((objectId: string, read: number, written: number) => void) | undefined;
    /** Rate limiters' counts; without them every call is allowed. */
    rateLimit?: ((binding: string, key: string, limit: number, period: number) => boolean) | undefined;
    /** Keeps Analytics Engine data points; without it they are dropped. */
    dataPoint?: ((point: DataPoint) => void) | undefined;
    /** Keeps a send_email message (the outbox); without one, sends fail saying so. */
    email?: ((message: CapturedEmail) => Promise<void>) | undefined;
    /** The classes' sharding policies (terrarium.json); setSharding changes them. */
    sharding?: Record<string, ShardingPolicyConfig> | undefined;
  }) {
    this.#sockets = deps.sockets;
    this.#beforeUpdate = deps.beforeUpdate ?? (async () => {});
    this.#links = deps.links ?? noLinks;
    this.#rows = deps.rows ?? (() => {});
    this.#rateLimit = deps.rateLimit ?? (() => true);
    this.#dataPoint = deps.dataPoint ?? (() => {});
    this.#email = deps.email ?? (() => Promise.reject(new Error("send_email: this project keeps no outbox")));
    this.#publish = deps.publish ?? noBus;
    this.#queueSend = deps.queueSend ?? (() => Promise.reject(new Error("this project has no queues")));
    this.#workflow = deps.workflow ?? (() => Promise.reject(new Error("this project declares no workflows")));
    this.#registry = deps.registry;
    this.#state = deps.state;
    this.#clock = deps.clock;
    this.#events = deps.events;
    this.#opts = deps.options;
    this.#code = deps.code;
    this.#namespaces = new Namespaces(deps.code.spec.workerName, deps.code.bindings);
    this.#sharding = new Sharding({
      live: this.#live,
      key: (className) => this.#namespaces.key(className),
      transition: (rec, to, cause) => this.transition(rec, to, cause),
      warm: (className, id, name, cause) => this.warm(className, id, name, cause),
      error: (message) => this.#log(null, "error", message),
    });
    if (deps.sharding) this.#sharding.set(deps.sharding);
    this.#pool = new WorkerPool({
      clock: this.#clock,
      options: this.#opts,
      live: this.#live,
      sockets: this.#sockets,
      code: () => this.#code,
      loadFailure: () => this.#loadFailure,
      failedToLoad: (code, e) => this.#failedToLoad(code, e),
      gateway: (slot) => buildGateway(slot, this.#gatewayHub()),
      lend: (id, cause) => this.#hibernate(id, cause),
      error: (message) => this.#emitLog(null, "error", message, this.#clock.now(), "terrarium"),
    });
    this.#inspection = new Inspection({
      live: this.#live,
      registry: this.#registry,
      state: this.#state,
      sockets: this.#sockets,
      clock: this.#clock,
      options: this.#opts,
    });
    this.#closures = new Closures({
      live: this.#live,
      sockets: this.#sockets,
      hibernate: (id, cause) => this.hibernate(id, cause),
    });
    this.#entries = new EntryWorkers({
      pool: this.#pool,
      options: this.#opts,
      sockets: this.#sockets,
      code: () => this.#code,
      loadFailure: () => this.#loadFailure,
      error: (message) => this.#log(null, "error", message),
    });
    this.#sweeper = this.#clock.setInterval(() => this.sweep(), 100);
    const dog = setInterval(() => this.#watchdog(), WATCHDOG_MS);
    dog.unref();
    this.#dog = dog;
  }

  get options(): LifecycleOptions {
    return this.#opts;
  }

  /** How many workers are running (pooled, lent or hosting an object). */
  workerCount(): number {
    return this.#pool.size;
  }

  /**
   * Calls `fn` each time a worker thread (by `threadId`) is given an object
   * to serve, or none (see WorkerPool.watch).
   */
  watchWorkers(fn: (threadId: number, object: WorkerObject | null) => void): void {
    this.#pool.watch(fn);
  }

  readonly #refuseOnce = new Map<string, string>();

  /**
   * The next event that would start object `id` fails with `message` (HTTP
   * 500) instead, once; the one after runs it. A supervised `serve` uses it
   * for the object whose allocation ended the previous process, so that
   * its caller learns why and a retry loop cannot restart the server back
   * to back.
   */
  refuseOnce(id: string, message: string): void {
    this.#refuseOnce.set(id, message);
  }

  /** Whether a worker is, or is becoming, this object (and so may have its database open). */
  hostsObject(id: string): boolean {
    for (const slot of this.#pool.slots()) if (slot.object?.record.id === id) return true;
    return false;
  }

  /**
   * Each worker with the object it serves (null: none) and its event-loop
   * busy time so far (ms); `worker` is the same object for as long as the
   * thread lives, so a reader can tell readings of one worker apart.
   */
  *workerLoads(): IterableIterator<{ worker: object; objectId: string | null; cpuUsage(): number }> {
    for (const { host, object } of this.#pool.slots())
      yield { worker: host, objectId: object?.record.id ?? null, cpuUsage: () => host.cpuUsage() };
  }

  /**
   * Starts the entry workers and the pool. Code whose main module throws
   * while loading does not stop the start: every event fails with that
   * error (see loadFailure) until new code loads.
   */
  async start(): Promise<void> {
    this.#settleAfterRestart();
    await this.#entries.start();
    this.#pool.refill();
  }

  /** The names the project's main module exports as functions or classes; null while it does not load. */
  exportedClasses(): Promise<string[] | null> {
    return this.#entries.exportedClasses();
  }

  /**
   * Set while the current code's main module throws when it loads (a
   * top-level throw, an import that fails at run time): the error every
   * request, RPC call and event gets instead of a worker, until a code
   * change loads.
   */
  #loadFailure: ModuleLoadError | null = null;

  /** Why the current code does not load, or null. */
  get loadFailure(): string | null {
    return this.#loadFailure?.message ?? null;
  }

  /** Records that `code` throws while loading and returns the error its events fail with. */
  #failedToLoad(code: CodeVersion, e: unknown): ModuleLoadError {
    const failure = new ModuleLoadError(errorText(e));
    if (code !== this.#code) return failure;
    const first = this.#loadFailure === null;
    this.#loadFailure = failure;
    if (first) {
      this.#log(
        null,
        "error",
        `${failure.message}; every request fails with this error until the code is fixed`,
      );
      this.#pool.failWaiters(failure);
    }
    return failure;
  }

  // ---- transitions ----

  transition(obj: ObjectRecord, to: LifecycleState, cause: string): void {
    if (!canTransition(obj.state, to)) {
      const err = new IllegalTransitionError(obj.state, to, obj.id);
      this.#events.emit("problem", {
        time: this.#clock.now(),
        message: `BUG: ${err.message} (${cause})`,
        objectId: obj.id,
      });
      throw err;
    }
    const rec = this.#registry.recordTransition({
      time: this.#clock.now(),
      objectId: obj.id,
      className: obj.className,
      from: obj.state,
      to,
      cause,
    });
    obj.state = to;
    this.#registry.touch(obj);
    this.#events.emit("transition", rec);
  }

  #walk(
    obj: ObjectRecord,
    to: LifecycleState,
    cause: string,
    avoid: LifecycleState[] = ["Initializing"],
  ): void {
    const path = pathBetween(obj.state, to, avoid);
    if (!path) return;
    for (const s of path) this.transition(obj, s, cause);
  }

  /** After a restart or crash of the process, nothing is live: settle every record on disk. */
  #settleAfterRestart(): void {
    for (const rec of this.#registry.objects()) {
      if (rec.state === "Terminating") {
        this.#state.remove(rec.className, rec.id);
        this.#registry.remove(rec.id);
      } else if (rec.state !== "Hibernating" && rec.state !== "Created" && rec.state !== "Initializing") {
        this.#walk(rec, "Hibernating", "recovered: Terrarium restarted");
      }
    }
  }

  // ---- dispatch ----

  /** The Service Registry's binding -> class and id lookups for the current code. */
  get namespaces(): Namespaces {
    return this.#namespaces;
  }

  #record(className: string, id: string, name: string | null, cause: string): LiveObject {
    let live = this.#live.get(id);
    if (live) return live;
    let rec = this.#registry.get(id);
    if (!rec) {
      const now = this.#clock.now();
      rec = this.#registry.create({
        id,
        className,
        name,
        state: "Created",
        createdAt: now,
        lastActive: now,
        requests: 0,
        storageBytes: 0,
        lastError: null,
      });
      const t = this.#registry.recordTransition({
        time: now,
        objectId: id,
        className,
        from: null,
        to: "Created",
        cause,
      });
      this.#events.emit("transition", t);
    } else if (name && !rec.name) {
      rec.name = name;
    }
    live = {
      record: rec,
      host: null,
      starting: null,
      inFlight: 0,
      spanRequests: 0,
      lastEventAt: this.#clock.now(),
      idleSince: this.#clock.now(),
      generation: 0,
      busy: null,
      killedFor: null,
      updating: null,
      pendingScaling: null,
      directBusy: new Set(),
      streams: 0,
    };
    this.#live.set(id, live);
    return live;
  }

  /**
   * Runs one event (request, RPC call, alarm, bus delivery) on an object,
   * waking or creating it first. The object is Processing while anything is
   * in flight; consecutive requests share one Processing span.
   */
  async run<T>(
    d: Dispatch,
    fn: (api: Comlink.Remote<WorkerApi>, trace: TraceContext | undefined) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new ObjectError("Terrarium is shutting down", 503);
    let live = this.#record(d.className, d.id, d.name, d.cause);
    while (live.updating) {
      await live.updating;
      live = this.#record(d.className, d.id, d.name, d.cause);
    }
    live.inFlight++;
    const generation = live.generation;
    const started = this.#clock.now();
    const span = beginObjectSpan(this.tracer, d, live.record);
    const work = (async () => {
      const host = await this.#ensureLive(live, d.cause);
      if (live.generation !== generation)
        throw new ObjectError("the object was reset while the request waited", 503);
      this.#beginProcessing(live, d.cause);
      return this.#watch(live, host, (api) => fn(api, span?.ctx));
    })();
    const finish = (error: string | undefined, value?: unknown): void => {
      if (span) endObjectSpan(this.tracer, span, error, value);
      const rec = live.record;
      rec.requests++;
      rec.lastActive = this.#clock.now();
      this.#registry.touch(rec);
      if (live.generation === generation) {
        live.inFlight--;
        live.lastEventAt = this.#clock.now();
        // The Processing span ends in the sweeper once nothing has been in
        // flight for SPAN_GAP_MS, so steady traffic is one span, not two
        // transitions per request.
      }
      if (this.#events.listening("request"))
        this.#events.emit("request", {
          time: started,
          objectId: d.id,
          className: d.className,
          kind: d.kind,
          method: d.cause,
          durationMs: this.#clock.now() - started,
          ok: error === undefined,
          ...(error ? { error } : {}),
        });
    };
    const answered = await bounded(work, this.#opts.answerTimeoutMs, () => {
      const rec = live.record;
      return `Durable Object ${rec.className} ${rec.name ?? rec.id} gave no answer to ${d.cause}`;
    });
    if (answered.late) {
      // The event still runs in the worker: it counts as in flight (the
      // object shows Processing, and does not hibernate under it) until it ends.
      this.#log(live.record, "error", answered.late.message);
      work.then(
        () => finish(undefined),
        (e: unknown) => finish(errorText(e)),
      );
      throw answered.late;
    }
    if (answered.ok) finish(undefined, answered.value);
    else finish(errorText(answered.error));
    if (!answered.ok) throw answered.error;
    return answered.value;
  }

  #endSpan(live: LiveObject): void {
    if (live.record.state !== "Processing" || busy(live)) return;
    const n = live.spanRequests;
    this.transition(live.record, "Active", `${n} event${n === 1 ? "" : "s"} done`);
    live.spanRequests = 0;
    if (live.pendingScaling) {
      this.transition(live.record, "Scaling", live.pendingScaling);
      this.transition(live.record, "Active", "shards rebalanced");
      live.pendingScaling = null;
    }
  }

  #beginProcessing(live: LiveObject, cause: string): void {
    const rec = live.record;
    if (rec.state === "Idle") this.transition(rec, "Active", cause);
    if (rec.state === "Active") {
      this.transition(rec, "Processing", cause);
      live.spanRequests = 0;
    }
    live.spanRequests++;
  }

  /** Runs a call on the object's worker, turning a lost worker into a clear error. */
  async #watch<T>(
    live: LiveObject,
    host: WorkerHost,
    fn: (api: Comlink.Remote<WorkerApi>) => Promise<T>,
  ): Promise<T> {
    try {
      return await host.call(fn);
    } catch (e) {
      if (isReset(e)) {
        // The object broke itself (blockConcurrencyWhile threw): the call fails
        // with the callback's error, and the next event gets a fresh object.
        const err = e as Error;
        await this.#lose(live, host, `reset: ${err.name}: ${err.message}`);
        throw e;
      }
      if (e instanceof WorkerExitedError) {
        const exit = await host.exited;
        const why =
          live.killedFor ??
          (exit.error
            ? `${exit.error.name}: ${exit.error.message}`
            : exit.requested
              ? "it was stopped"
              : `exit code ${exit.code}`);
        throw new ObjectError(
          `Durable Object ${live.record.className} ${live.record.id} was reset: ${why}`,
          this.#closed ? 503 : 500,
        );
      }
      throw e;
    }
  }

  /**
   * The CPU watchdog, on real time: a worker whose event loop stays busy
   * past the CPU limit while it has a request in flight is spinning, and is
   * ended. Waiting on I/O does not count, as on Cloudflare.
   */
  #watchdog(): void {
    const now = performance.now();
    const limit = this.#opts.cpuLimitMs;
    for (const live of this.#live.values()) {
      const host = live.host;
      if (!host || !host.alive || !busy(live)) {
        live.busy = null;
        continue;
      }
      const active = host.cpuUsage();
      if (!live.busy) {
        live.busy = { at: now, active, run: 0 };
        continue;
      }
      const dt = now - live.busy.at;
      const busyFor = active - live.busy.active;
      live.busy = { at: now, active, run: busyFor >= dt * 0.8 ? live.busy.run + dt : 0 };
      if (live.busy.run >= limit) {
        live.killedFor = `exceeded its CPU time limit of ${limit} ms`;
        void this.#lose(live, host, `reset: ${live.killedFor}`);
      }
    }
  }

  async #ensureLive(live: LiveObject, cause: string): Promise<WorkerHost> {
    if (live.host?.alive) return live.host;
    if (live.starting) return live.starting;
    const closed = this.#closures.refusal(live.record.className, live.record.id);
    if (closed !== undefined) throw new ObjectError(closed, 503);
    const refused = this.#refuseOnce.get(live.record.id);
    if (refused !== undefined) {
      this.#refuseOnce.delete(live.record.id);
      throw new ObjectError(refused, 500);
    }
    live.starting = this.#activate(live, cause).finally(() => {
      live.starting = null;
    });
    return live.starting;
  }

  /** What a worker needs to become this object: its storage, its alarm, its held sockets. */
  #identity(rec: ObjectRecord): ObjectIdentity {
    return {
      className: rec.className,
      id: rec.id,
      name: rec.name,
      dbPath: this.#state.dbPath(rec.className, rec.id),
      alarm: this.#state.alarms(rec.id)[0]?.time ?? null,
      sockets: this.#sockets.held(rec.id),
    };
  }

  async #activate(live: LiveObject, cause: string): Promise<WorkerHost> {
    const rec = live.record;
    if (rec.state === "Created" || rec.state === "Hibernating") this.transition(rec, "Initializing", cause);
    let host: WorkerHost;
    try {
      host = await this.#pool.forObject();
    } catch (e) {
      rec.lastError = errorText(e);
      this.#registry.touch(rec);
      this.#log(rec, "error", `could not start: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    const slot = this.#pool.slot(host)!;
    this.#pool.assign(slot, live);
    try {
      await host.call((api) => api.activate(this.#identity(rec)));
    } catch (e) {
      this.#pool.assign(slot, null);
      // Cut short by a stop (see close): not the constructor's fault.
      if (this.#closed) {
        void host.stop();
        throw new ObjectError("Terrarium stopped before the object was ready", 503);
      }
      // The isolate closes the object's database when its constructor throws, so the
      // worker is as clean as after a hibernation and goes back to the pool: an
      // object that fails to start on every request must not cost a thread each time.
      // One whose constructor's blockConcurrencyWhile failed is broken for good (its
      // error is marked as a reset; the notice saying so may come after it).
      if (host.broken || isReset(e)) void host.stop();
      else this.#pool.offer(host);
      const msg = errorText(e);
      rec.lastError = msg;
      this.#registry.touch(rec);
      this.#log(rec, "error", `constructor failed: ${msg}`);
      // The caller sees the constructor's own error, as with workerd.
      throw e;
    }
    rec.lastError = null;
    live.host = host;
    live.idleSince = this.#clock.now();
    this.transition(rec, "Active", "initialized");
    void host.exited.then((exit) => {
      if (!exit.requested && live.host === host) {
        const why = exit.error
          ? `${exit.error.name}: ${exit.error.message}`
          : `worker exited with code ${exit.code}`;
        void this.#lose(live, host, `reset: ${why}`);
      }
    });
    return host;
  }

  /** The worker is gone (crash, limit, abort): in-memory state is lost, storage stays. */
  async #lose(live: LiveObject, host: WorkerHost, cause: string): Promise<void> {
    if (live.host !== host) return;
    const { className, id } = live.record;
    // For callers on direct lines, whose line just closes (Peers asks lostWhy).
    if (this.#lostWhy.size > 1_000) this.#lostWhy.clear();
    this.#lostWhy.set(id, {
      message: `Durable Object ${className} ${id} was ${cause}`,
      at: this.#clock.now(),
    });
    live.host = null;
    live.generation++;
    live.inFlight = 0;
    live.streams = 0;
    live.spanRequests = 0;
    this.#pool.forget(host);
    live.record.lastError = cause;
    this.#log(live.record, "error", cause);
    this.#sockets.closeObject(live.record.id, 1011, "the Durable Object was reset", true);
    this.#walk(live.record, "Hibernating", cause);
    this.#live.delete(live.record.id);
    await host.stop();
  }

  /** Ends an object's worker and leaves it Hibernating (storage kept). */
  async hibernate(id: string, cause: string): Promise<boolean> {
    const host = await this.#hibernate(id, cause);
    if (!host) return false;
    this.#pool.offer(host);
    return true;
  }

  /** Hibernates an object and hands back its worker, deactivated and reusable (or null). */
  async #hibernate(id: string, cause: string): Promise<WorkerHost | null> {
    const live = this.#live.get(id);
    if (!live || !live.host || live.starting || busy(live)) return null;
    this.#endSpan(live);
    const rec = live.record;
    if (rec.state !== "Active" && rec.state !== "Idle") return null;
    if (rec.state === "Active") this.transition(rec, "Idle", cause);
    const host = live.host;
    live.host = null;
    live.generation++;
    this.transition(rec, "Hibernating", cause);
    this.#live.delete(id);
    this.#sockets.hibernated(id);
    rec.storageBytes = this.#state.storageBytes(rec.className, rec.id);
    this.#registry.touch(rec);
    const slot = this.#pool.slot(host);
    try {
      await host.call((api) => api.deactivate());
    } catch {
      void host.stop();
      return null;
    }
    if (slot) this.#pool.assign(slot, null);
    return host.alive ? host : null;
  }

  /** Why an object is not hibernating now, and when it will (inspect.ts); `probe` asks its worker too. */
  whyAwake(id: string, opts: { probe: boolean }): Promise<WhyAwake | null> {
    return this.#inspection.whyAwake(id, opts);
  }

  /** whyAwake from what the orchestrator knows alone (no call into the worker), for tables. */
  whyAwakeNow(id: string): WhyAwake | null {
    return this.#inspection.whyAwakeNow(id);
  }

  /**
   * Wakes an object without an event: its constructor runs on its storage
   * (and its hibernatable sockets come back with their attachments), as
   * when a request wakes it. Resolves once it is Active.
   */
  async wake(id: string, cause: string): Promise<void> {
    const rec = this.#registry.get(id);
    if (!rec) throw new ObjectError(`no object with id ${id}`, 404);
    const live = this.#record(rec.className, id, rec.name, cause);
    live.lastEventAt = this.#clock.now();
    await this.#ensureLive(live, cause);
  }

  /** The fields of a live object as its worker previews them; null when it is not live or does not answer. */
  fields(id: string): Promise<Record<string, string> | null> {
    return this.#inspection.fields(id);
  }

  /** New idle and hibernation timeouts (terrarium.json changed); the sweeper applies them from now on. */
  setPolicies(policy: LifecyclePolicy, classPolicies: LifecycleOptions["classPolicies"]): void {
    this.#opts.policy = policy;
    this.#opts.classPolicies = classPolicies;
  }

  /**
   * Stops a class's objects before a change to the class itself (a rename,
   * a deletion); resolves with the function that opens it again (closures.ts).
   */
  closeClass(className: string, reason: string, timeoutMs = 10_000): Promise<() => void> {
    return this.#closures.closeClass(className, reason, timeoutMs);
  }

  /**
   * Stops one object before its storage is replaced; resolves with the
   * function that opens it again (closures.ts).
   */
  closeObject(id: string, reason: string, timeoutMs = 10_000): Promise<() => void> {
    return this.#closures.closeObject(id, reason, timeoutMs);
  }

  /** Copies a live object's database to `dest` in its worker; false when it has none now (inspect.ts). */
  snapshotLive(id: string, dest: string): Promise<boolean> {
    return this.#inspection.snapshotLive(id, dest);
  }

  /** The objects that have a worker now. */
  liveRecords(): ObjectRecord[] {
    return [...this.#live.values()].filter((l) => l.host).map((l) => l.record);
  }

  /** Ends an object for good: worker, storage and alarm. */
  async terminate(id: string, cause: string): Promise<boolean> {
    const rec = this.#registry.get(id);
    if (!rec) return false;
    const live = this.#live.get(id);
    if (live?.starting) await live.starting.catch(() => {});
    if (rec.state === "Processing" || rec.state === "Updating" || rec.state === "Scaling") {
      this.transition(rec, "Active", `${cause} (in-flight requests cancelled)`);
    }
    if (rec.state === "Created" || rec.state === "Initializing") {
      // Never got going: nothing to walk through, just forget it.
      this.#live.delete(id);
      this.#state.remove(rec.className, rec.id);
      this.#registry.remove(id);
      return true;
    }
    this.transition(rec, "Terminating", cause);
    this.#sockets.closeObject(rec.id, 1001, "the Durable Object was terminated");
    if (live) {
      live.generation++;
      const host = live.host;
      live.host = null;
      this.#live.delete(id);
      if (host) {
        this.#pool.forget(host);
        await host.stop();
      }
    }
    this.#state.remove(rec.className, rec.id);
    this.#registry.remove(id);
    return true;
  }

  /** Objects holding a worker, or about to. */
  liveCount(): number {
    return countLive(this.#live.values());
  }

  inFlight(id: string): number {
    return this.#live.get(id)?.inFlight ?? 0;
  }

  /** Idle and hibernation timeouts; runs on the clock. */
  sweep(): void {
    const now = this.#clock.now();
    if (this.#sharding.size > 0) this.#sharding.scale(now);
    for (const live of [...this.#live.values()]) {
      const rec = live.record;
      if (!live.host || busy(live) || live.starting) continue;
      if (rec.state === "Processing") {
        if (now - live.lastEventAt < SPAN_GAP_MS) continue;
        this.#endSpan(live);
      }
      const policy = policyOf(this.#opts, rec.className);
      if (rec.state === "Active" && now - live.lastEventAt >= policy.idleAfterMs) {
        this.transition(rec, "Idle", `no requests for ${policy.idleAfterMs} ms`);
        live.idleSince = now;
      } else if (
        rec.state === "Idle" &&
        now - live.idleSince >= policy.hibernateAfterMs &&
        !this.#sockets.pinsObject(rec.id) &&
        live.streams === 0
      ) {
        void this.hibernate(rec.id, `idle for ${policy.hibernateAfterMs} ms`);
      }
    }
    // Objects that just went Idle can lend their workers to objects waiting for one.
    if (this.#pool.waiting > 0) this.#pool.supply();
  }

  // ---- workers ----

  /** What each worker's gateway (gateway.ts) calls back into; every member reads this manager when called. */
  #gatewayHub(): GatewayHub<LiveObject> {
    return {
      state: this.#state,
      clock: this.#clock,
      events: this.#events,
      sockets: this.#sockets,
      lostWhy: this.#lostWhy,
      objectFetch: (binding, id, name, req, caller, trace) => {
        const f = this.#links.foreign(binding);
        if (f) return f.lifecycle.objectFetch(f.binding, id, name, req, null, trace);
        return this.objectFetch(binding, id, name, req, caller, trace);
      },
      objectRpc: (binding, id, name, method, args, caller, kind, trace) => {
        const f = this.#links.foreign(binding);
        if (f) return f.lifecycle.objectRpc(f.binding, id, name, method, args, null, kind, trace);
        return this.objectRpc(binding, id, name, method, args, caller, kind, trace);
      },
      serviceFetch: (binding, req) => this.#links.serviceFetch(binding, req),
      serviceRpc: (binding, method, args, kind) => this.#links.serviceRpc(binding, method, args, kind),
      publish: (topic, data, from, trace) => this.#publish(topic, data, from, trace),
      queueSend: (queue, messages, trace) => this.#queueSend(queue, messages, trace),
      workflow: (call) => this.#workflow(call),
      rateLimit: (binding, key, limit, period) => this.#rateLimit(binding, key, limit, period),
      dataPoint: (point) => this.#dataPoint(point),
      email: (message) => this.#email(message),
      emitLog: (rec, level, message, time, source) => this.#emitLog(rec, level, message, time, source),
      traceLog: (rec, r) => logToTrace(this.tracer, rec, r),
      traceMock: (rec, call, trace) => mockSpan(this.tracer, rec, call, trace),
      peer: async (binding, id) => (this.#links.isForeign(binding) ? null : this.#peer(binding, id)),
      direct: (caller, reports) => this.#direct(caller, reports),
      rows: (objectId, read, written) => this.#rows(objectId, read, written),
      lose: (live, host, cause) => this.#lose(live, host, cause),
    };
  }

  /** The worker supply now, read by the load view to say what holds requests back (see WorkerPool). */
  workerSupply(): WorkerSupply {
    return this.#pool.supplyNow();
  }

  // ---- calls from the router and from workers ----

  /**
   * A request the router matched to a terrarium.json route: the object the
   * route names through `binding` (or, for a sharded class, the shard its
   * key goes to), woken or created, answers it.
   */
  routedFetch(
    route: { binding: string; objectName: string; expand: (template: string) => string },
    req: SerializedRequest,
    trace?: TraceContext,
  ): Promise<SerializedResponse> {
    const className = this.#namespaces.classForBinding(route.binding);
    const name = this.#sharding.target(className, route.binding, route.objectName, route.expand);
    const { id } = this.#namespaces.byName(route.binding, name);
    return this.#fetch({ className, id }, name, req, trace);
  }

  async objectFetch(
    binding: string,
    idHex: string,
    name: string | null,
    req: SerializedRequest,
    _from: ObjectRecord | null,
    trace?: TraceContext,
  ): Promise<SerializedResponse> {
    return this.#fetch(this.#namespaces.byId(binding, idHex), name, req, trace);
  }

  async #fetch(
    { className, id }: ObjectAddress,
    name: string | null,
    req: SerializedRequest,
    trace?: TraceContext,
  ): Promise<SerializedResponse> {
    const res = await this.run(
      { className, id, name, kind: "fetch", cause: `${req.method} ${pathOf(req.url)}`, trace },
      (api, span) => api.fetch(Comlink.transfer(req, bodyTransfer(req)), span),
    );
    if (res.webSocket) this.#sockets.claim(res.webSocket, { kind: "object", objectId: id, className });
    return Comlink.transfer(res, bodyTransfer(res));
  }

  objectRpc(
    binding: string,
    idHex: string,
    name: string | null,
    method: string,
    args: RpcArgs,
    _from: ObjectRecord | null,
    kind: "call" | "get" = "call",
    trace?: TraceContext,
  ): Promise<unknown> {
    const { className, id } = this.#namespaces.byId(binding, idHex);
    const cause = kind === "call" ? `rpc ${method}()` : `rpc get ${method}`;
    return this.run({ className, id, name, kind: "rpc", cause, trace }, (api, span) =>
      api.rpc(method, withStubPorts(args), kind, span),
    );
  }

  /** A direct line from a worker to the worker of a live object it calls often (direct-lines.ts). */
  async #peer(binding: string, idHex: string): Promise<MessagePort | null> {
    const { id } = this.#namespaces.byId(binding, idHex);
    return openPeer(this.#live.get(id));
  }

  /** Calls a worker made on direct lines, booked as #run books its own (direct-lines.ts). */
  #direct(caller: WorkerHost, reports: DirectReport[]): void {
    recordDirect(
      {
        live: this.#live,
        registry: this.#registry,
        events: this.#events,
        clock: this.#clock,
        beginProcessing: (live, cause) => this.#beginProcessing(live, cause),
        counted: (calls) => (this.directCalls += calls),
      },
      caller,
      reports,
    );
    if (this.tracer) directSpans(this.tracer, this.#live, this.#registry, reports);
  }

  /** Runs an Inspector statement on a live object's database in its worker; null when it has none now (inspect.ts). */
  adminSql(id: string, sql: string, params: unknown[]): Promise<QueryResult | null> {
    return this.#inspection.adminSql(id, sql, params);
  }

  /**
   * Collects the direct-line calls workers have done but not yet reported
   * (they report every few milliseconds), so counts read right after a run
   * include every call.
   */
  async settleDirect(): Promise<void> {
    await Promise.all(
      [...this.#pool.slots()].map(async ({ host }) => {
        if (!host.alive) return;
        const reports = await host.call((api) => api.takeDirect()).catch(() => null);
        if (reports && reports.length > 0) this.#direct(host, reports);
      }),
    );
  }

  /** Runs `fn` on an entry worker (a queue batch, a Workflow instance's run), starting one if none is alive. */
  entryCall<T>(fn: (api: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T> {
    return this.#entries.call(fn);
  }

  /** A service binding's call into this Worker, at its `entrypoint` export (entry.ts). */
  entrypointCall(
    entrypoint: string | null,
    call: { fetch: SerializedRequest } | { method: string; args: RpcArgs; kind: "call" | "get" },
  ): Promise<unknown> {
    return this.#entries.entrypointCall(entrypoint, call);
  }

  /** Sends a request to the entry Worker. */
  entryFetch(req: SerializedRequest, trace?: TraceContext): Promise<SerializedResponse> {
    return this.#entries.fetch(
      req,
      trace && this.tracer ? { tracer: this.tracer, parent: trace } : undefined,
    );
  }

  // ---- logs ----

  #log(rec: ObjectRecord | null, level: LogRecord["level"], message: string): void {
    this.#emitLog(rec, level, message, this.#clock.now(), "terrarium");
  }

  #emitLog(rec: ObjectRecord | null, level: string, message: string, time: number, source?: string): void {
    const entry = this.#registry.recordLog({
      time,
      level,
      source: source ?? (rec ? rec.className : "entry"),
      objectId: rec?.id ?? null,
      message,
    });
    this.#events.emit("log", entry);
  }

  // ---- sharding (the Scaling state: sharding.ts) ----

  setSharding(policies: Record<string, ShardingPolicyConfig>): void {
    this.#sharding.set(policies);
  }

  shardGroups(): ShardGroupView[] {
    return this.#sharding.groups();
  }

  /** Creates (or wakes) an object without an event, e.g. a new shard. */
  async warm(className: string, id: string, name: string | null, cause: string): Promise<void> {
    const live = this.#record(className, id, name, cause);
    await this.#ensureLive(live, cause);
  }

  // ---- live code updates ----

  #updateChain: Promise<unknown> = Promise.resolve();

  get code(): CodeVersion {
    return this.#code;
  }

  /** Moves the project to new code (code-update.ts); updates run one after another. */
  updateCode(
    next: CodeVersion,
    cause = "code changed",
    opts: { probe?: UpdateProbe[] } = {},
  ): Promise<UpdateResult> {
    const run = this.#updateChain.then(() => updateCode(this.#updateHub(), next, cause, opts.probe ?? []));
    this.#updateChain = run.catch(() => {});
    return run;
  }

  #updateHub(): UpdateHub {
    return {
      live: this.#live,
      state: this.#state,
      pool: this.#pool,
      beforeUpdate: this.#beforeUpdate,
      closed: () => this.#closed,
      stillFailing: (e) => {
        if (this.#loadFailure) this.#loadFailure = e;
      },
      adopt: (next, entry) => this.#adopt(next, entry),
      endSpan: (live) => this.#endSpan(live),
      transition: (rec, to, cause) => this.transition(rec, to, cause),
      walk: (rec, to, cause) => this.#walk(rec, to, cause),
      identity: (rec) => this.#identity(rec),
      lose: (live, host, cause) => this.#lose(live, host, cause),
      log: (level, message) => this.#log(null, level, message),
    };
  }

  /** Makes `next` the current code: `entry` and new entry workers serve it, the pool starts over. */
  async #adopt(next: CodeVersion, entry: WorkerHost): Promise<void> {
    this.#code = next;
    if (this.#loadFailure) {
      this.#loadFailure = null;
      this.#log(null, "info", "the Worker's main module loads again");
    }
    this.#namespaces = new Namespaces(next.spec.workerName, next.bindings);
    await this.#entries.replace(entry, next);
    this.#pool.renew();
  }

  #closing: Promise<CutShort[]> | null = null;

  /**
   * Stops every object, in bounded time. New events are refused (503) at
   * once; those in flight get `graceMs` to finish (they may still call other
   * objects meanwhile). Then each object that still has one is cut short:
   * its worker is ended at once (`WorkerHost.kill`; a call into a thread
   * that spins is never answered, and `terminate` stops it anyway), and its
   * callers get a 503. The others are deactivated, each given until the
   * grace period ends or DEACTIVATE_MS, whichever is later, before it is
   * ended too. The CPU watchdog runs until the last worker is gone. Resolves
   * with the objects that were cut short; `why` says why in their records.
   */
  close(graceMs = 5_000, why = `the ${graceMs} ms grace period ended`): Promise<CutShort[]> {
    this.#closing ??= this.#close(graceMs, why);
    return this.#closing;
  }

  async #close(graceMs: number, why: string): Promise<CutShort[]> {
    this.#closed = true;
    this.#sweeper.cancel();
    this.#pool.close();
    const deadline = Date.now() + graceMs;
    while (this.busyObjects() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));

    const cut: CutShort[] = [];
    const ending: Promise<void>[] = [];
    const deactivateBy = Math.max(deadline, Date.now() + DEACTIVATE_MS);
    for (const live of [...this.#live.values()]) {
      const rec = live.record;
      // A starting object has a worker (its slot) but not yet live.host.
      const host = live.host ?? [...this.#pool.slots()].find((s) => s.object === live)?.host ?? null;
      live.generation++;
      live.host = null;
      if (busy(live) || live.starting) {
        const events = Math.max(live.inFlight, live.directBusy.size);
        // One only starting (a shard warming up) had nothing of anyone's to cut short.
        if (events > 0) cut.push({ className: rec.className, id: rec.id, name: rec.name, events });
        live.killedFor = `Terrarium stopped before it answered (${why})`;
        live.inFlight = 0;
        // An object cut short while initializing stays Initializing, as after a crash (see #settleAfterRestart).
        if (rec.state !== "Initializing" && rec.state !== "Created") {
          this.#walk(rec, "Hibernating", `Terrarium stopped: cut short (${why})`);
        }
        if (host) ending.push(host.kill());
        continue;
      }
      this.#walk(rec, "Hibernating", "Terrarium stopped");
      if (!host) continue;
      ending.push(
        deadlineRace(
          host
            .call((api) => api.deactivate())
            .then(
              () => true,
              () => false,
            ),
          deactivateBy,
          false,
        ).then((deactivated) => (deactivated ? host.stop() : host.kill())),
      );
    }
    this.#live.clear();
    await Promise.all(ending);
    // The pool, the entry workers and any still starting: nothing of an object's runs on them.
    await this.#pool.stopAll();
    clearInterval(this.#dog);
    return cut;
  }

  /** Objects with an event in flight (or starting to take one). */
  busyObjects(): number {
    let n = 0;
    for (const l of this.#live.values()) if (busy(l) || l.starting) n++;
    return n;
  }
}
