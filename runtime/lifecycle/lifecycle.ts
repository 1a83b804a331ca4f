import { existsSync, mkdtempSync, rmSync } from "node:fs";
import type { MessagePort } from "node:worker_threads";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import * as Comlink from "comlink";
import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { StateManager } from "../state/state-manager.ts";
import type { Clock } from "../shared/clock.ts";
import type { EngineEvents } from "../shared/events.ts";
import { idFromName, idFromString, namespaceKey, type NamespaceKey } from "../shared/ids.ts";
import { bodyTransfer, pathOf } from "../host/http-serialize.ts";
import { errorText } from "../shared/errors.ts";
import type {
  CodeSpec,
  DirectReport,
  GatewayApi,
  LogRecord,
  ObjectIdentity,
  SerializedRequest,
  SerializedResponse,
  WorkerApi,
} from "../host/protocol.ts";
import { WorkerExitedError, WorkerHost } from "../host/worker-host.ts";
import { isReset } from "../shared/comlink-node.ts";
import type { ShardingPolicyConfig } from "../config/terrarium.ts";
import { shardObjectName } from "../shared/sharding.ts";
import {
  decide,
  freshScalerMemory,
  nameForKey,
  resolvePolicy,
  shardNames,
  type ScalerView,
  type ShardGroup,
  type ShardingPolicy,
} from "./scaler.ts";
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
import type { ObjectProbe } from "../host/probe.ts";
import { whyAwake, type WhyAwake } from "./why-awake.ts";
import { buildGateway, type GatewayHub } from "./gateway.ts";
import { forgetCaller, openPeer, recordDirect } from "./direct-lines.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import type { TraceStore } from "../state/traces.ts";
import { beginObjectSpan, directSpans, endAnswered, endObjectSpan, logToTrace, mockSpan } from "./tracing.ts";

const SPAWN_CONCURRENCY = 2;
/** How long "why is it awake?" waits for an object's worker to answer its probe. */
const PROBE_MS = 1_000;

/** `p`'s value, or null when it fails or takes longer than `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  try {
    return await Promise.race([p.catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}
/** Nothing in flight for this long ends a Processing span. */
const SPAN_GAP_MS = 50;
const WATCHDOG_MS = 50;
/** How much longer than an object the entry Worker may take to answer (see entryFetch). */
const ENTRY_ANSWER_GRACE_MS = 1_000;
/** How long an object with nothing in flight gets to deactivate (close its SQLite file) when Terrarium stops. */
const DEACTIVATE_MS = 1_000;

/** `p`, or `fallback` once the clock passes `deadline` (epoch ms). */
function deadlineRace<T>(p: Promise<T>, deadline: number, fallback: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(fallback), Math.max(0, deadline - Date.now()));
    void p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** An object whose events were still running when Terrarium stopped. */
export interface CutShort {
  className: string;
  id: string;
  name: string | null;
  /** Events (requests, RPC calls, alarms, deliveries) it had in flight. */
  events: number;
}

/** Warm workers kept for reuse after their objects hibernate. */
const MAX_IDLE_WORKERS = 32;
/** How long after a pooled worker is taken its replacement starts. */
const REFILL_DELAY_MS = 30;

export interface LifecyclePolicy {
  /** Active with nothing in flight for this long -> Idle. */
  idleAfterMs: number;
  /** Idle for this long -> Hibernating. Cloudflare evicts an idle object after about 10 s. */
  hibernateAfterMs: number;
}

export interface LifecycleOptions {
  policy: LifecyclePolicy;
  classPolicies: Record<string, Partial<LifecyclePolicy>>;
  /** Live workers past which the least recently used idle objects hibernate early. */
  maxLiveObjects: number;
  /** Pre-started workers holding the current code, ready to take on an object's identity. */
  poolSize: number;
  /** CPU time one request or event may take before the object is ended (Cloudflare: 30 s). */
  cpuLimitMs: number;
  /**
   * Wall-clock time after which a request or event that has not answered
   * fails with the reason, so a hang is never silent. The event itself is
   * not cancelled: the object stays Processing until it ends.
   */
  answerTimeoutMs: number;
  /** V8 heap limit per object worker. */
  memoryLimitMb: number;
  entryWorkers: number;
}

export function defaultLifecycleOptions(): LifecycleOptions {
  // About 16 MB per live worker budgeted against a quarter of the machine.
  const byMemory = Math.floor(totalmem() / 4 / (16 * 1024 * 1024));
  return {
    policy: { idleAfterMs: 1_000, hibernateAfterMs: 10_000 },
    classPolicies: {},
    maxLiveObjects: Math.max(16, Math.min(byMemory, 1000)),
    poolSize: 4,
    cpuLimitMs: 30_000,
    answerTimeoutMs: 60_000,
    memoryLimitMb: 128,
    entryWorkers: 1,
  };
}

/** Where a Worker's service bindings lead (the engine knows the project's Workers). */
export interface ServiceCalls {
  fetch(binding: string, req: SerializedRequest): Promise<SerializedResponse>;
  rpc(binding: string, method: string, args: unknown[], kind: "call" | "get"): Promise<unknown>;
}

export interface CodeVersion {
  spec: CodeSpec;
  hostFile: string;
  entryFile: string;
  bindings: Map<string, string>;
}

/** An object's place in the orchestrator while it has (or is getting) a worker. */
interface LiveObject {
  record: ObjectRecord;
  host: WorkerHost | null;
  starting: Promise<WorkerHost> | null;
  inFlight: number;
  spanRequests: number;
  lastEventAt: number;
  idleSince: number;
  /** Bumped when the worker is lost or retired, so late completions of old calls change nothing. */
  generation: number;
  /** Watchdog bookkeeping: how long the worker's loop has been continuously busy. */
  busy: { at: number; active: number; run: number } | null;
  killedFor: string | null;
  /** Set while the object moves to new code; new events wait for it. */
  updating: Promise<void> | null;
  /** A Scaling transition owed once the current Processing span ends. */
  pendingScaling: string | null;
  /** Workers that have had a call to the object in flight on a direct line for a while (they report it). */
  directBusy: Set<WorkerHost>;
}

/** How long an object must have been Idle before it lends its worker: 2 s, within [idleAfter, hibernateAfter]. */
function loanAfter(p: LifecyclePolicy): number {
  return Math.min(p.hibernateAfterMs, Math.max(p.idleAfterMs, 2_000));
}

function busy(l: LiveObject): boolean {
  return l.inFlight > 0 || l.directBusy.size > 0;
}

interface Slot {
  host: WorkerHost;
  object: LiveObject | null;
  /** The code version the worker has loaded. */
  code: CodeVersion | null;
}

/** An object whose constructor an update tries on a copy of its storage before it goes ahead. */
export interface UpdateProbe {
  className: string;
  id: string;
  name: string | null;
}

export interface UpdateResult {
  ok: boolean;
  /** Live objects now running the new code. */
  updated: number;
  error: string | null;
}

function exitText(exit: { code: number; error: Error | null }): string {
  return exit.error ? `${exit.error.name}: ${exit.error.message}` : `worker exited with code ${exit.code}`;
}

export class ObjectError extends Error {
  override name = "ObjectError";
  constructor(
    message: string,
    readonly status = 500,
  ) {
    super(message);
  }
}

/** The project's main module threw while it loaded; every event on that code fails with this. */
export class ModuleLoadError extends ObjectError {
  override name = "ModuleLoadError";
  constructor(readonly reason: string) {
    super(`the Worker's main module threw while loading: ${reason}`, 500);
  }
}

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
  #pool: WorkerHost[] = [];
  #entries: WorkerHost[] = [];
  #entryNext = 0;
  #sweeper: { cancel(): void };
  #dog: NodeJS.Timeout;
  #closed = false;
  #keys = new Map<string, NamespaceKey>();
  readonly #slots = new Map<WorkerHost, Slot>();
  /** Why objects' workers were lost lately (see #lose). */
  readonly #lostWhy = new Map<string, { message: string; at: number }>();
  readonly #sockets: ObjectSockets;
  /** Calls served on direct lines between workers, since start. */
  directCalls = 0;
  /** Delivers `env.<bus>.publish` from a worker. */
  readonly #publish: Publish;
  /** Set by the engine: SQL rows an object read and wrote through ctx.storage.sql (the cost of a run). */
  onRows: ((objectId: string, read: number, written: number) => void) | null = null;
  /** Set by the engine: where spans go (docs/traces.md); null: nothing is traced. */
  tracer: TraceStore | null = null;
  /** Set by the engine: an incoming WebSocket message for an object of this class (billed 20:1). */
  onWsMessage: ((className: string) => void) | null = null;
  /**
   * Set by the engine: Durable Object bindings to classes of another Worker
   * (`script_name`), each resolved to that Worker's Lifecycle Manager and
   * its own binding for the class (throws when that Worker does not run).
   * Their calls go through the orchestrator, never on direct lines.
   */
  foreign = new Map<string, () => { lifecycle: LifecycleManager; binding: string }>();
  /** Set by the engine: where this Worker's service bindings (`services`) lead. */
  services: ServiceCalls = {
    fetch: (binding) => Promise.reject(new Error(`service binding ${binding} leads nowhere`)),
    rpc: (binding) => Promise.reject(new Error(`service binding ${binding} leads nowhere`)),
  };

  /** Persists messages a producer binding sent (the Queues broker). */
  readonly #queueSend: GatewayApi["queueSend"];
  /** The project's Workflows (`env.<workflow binding>` and running instances' steps). */
  readonly #workflow: (call: WorkflowCall) => Promise<unknown>;

  /** Set by the engine: keeps a data point written to an Analytics Engine dataset. */
  dataPoint: (point: DataPoint) => void = () => {};
  /** Set by the engine: counts a rate limiter's call (`env.<ratelimit>.limit()`). */
  rateLimit: (binding: string, key: string, limit: number, period: number) => boolean = () => true;

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
  }) {
    this.#sockets = deps.sockets;
    this.#publish = deps.publish ?? noBus;
    this.#queueSend = deps.queueSend ?? (() => Promise.reject(new Error("this project has no queues")));
    this.#workflow = deps.workflow ?? (() => Promise.reject(new Error("this project declares no workflows")));
    this.#registry = deps.registry;
    this.#state = deps.state;
    this.#clock = deps.clock;
    this.#events = deps.events;
    this.#opts = deps.options;
    this.#code = deps.code;
    this.#sweeper = this.#clock.setInterval(() => this.sweep(), 100);
    const dog = setInterval(() => this.#watchdog(), WATCHDOG_MS);
    dog.unref();
    this.#dog = dog;
  }

  get options(): LifecycleOptions {
    return this.#opts;
  }

  /**
   * Starts the entry workers and the pool. Code whose main module throws
   * while loading does not stop the start: every event fails with that
   * error (see loadFailure) until new code loads.
   */
  /** How many workers are running (pooled, lent or hosting an object). */
  workerCount(): number {
    return this.#slots.size;
  }

  /** Whether a worker is, or is becoming, this object (and so may have its database open). */
  hostsObject(id: string): boolean {
    for (const slot of this.#slots.values()) if (slot.object?.record.id === id) return true;
    return false;
  }

  /**
   * Each worker with the object it serves (null: none) and its event-loop
   * busy time so far (ms); `worker` is the same object for as long as the
   * thread lives, so a reader can tell readings of one worker apart.
   */
  *workerLoads(): IterableIterator<{ worker: object; objectId: string | null; cpuUsage(): number }> {
    for (const [host, slot] of this.#slots)
      yield { worker: host, objectId: slot.object?.record.id ?? null, cpuUsage: () => host.cpuUsage() };
  }

  async start(): Promise<void> {
    this.#settleAfterRestart();
    const n = Math.max(1, this.#opts.entryWorkers);
    const started = await Promise.allSettled(
      Array.from({ length: n }, () => this.#spawnLoaded(this.#code.entryFile, "entry")),
    );
    this.#entries = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = started.find((r) => r.status === "rejected");
    if (failed && !this.#loadFailure) throw failed.reason;
    this.#refillPool();
  }

  /** The names the project's main module exports as functions or classes; null while it does not load. */
  async exportedClasses(): Promise<string[] | null> {
    const host = this.#entries[0];
    if (!host) return null;
    return (await host.call((api) => api.load(this.#code.spec))).classes;
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
      for (const w of this.#waiters.splice(0)) w.reject(failure);
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

  nsKey(className: string): NamespaceKey {
    let k = this.#keys.get(className);
    if (!k) {
      k = namespaceKey(this.#code.spec.workerName, className);
      this.#keys.set(className, k);
    }
    return k;
  }

  classForBinding(binding: string): string {
    const c = this.#code.bindings.get(binding);
    if (!c) throw new ObjectError(`unknown Durable Object binding ${binding}`, 500);
    return c;
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
    const answered = await this.#bounded(work, this.#opts.answerTimeoutMs, () => {
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

  /**
   * Waits for `work` up to `limit` ms (real time, like the CPU watchdog):
   * a call that has not settled by then is reported as `late`, with an
   * error saying what gave no answer and what that usually means.
   */
  async #bounded<T>(
    work: Promise<T>,
    limit: number,
    what: () => string,
  ): Promise<
    { late: null; ok: true; value: T } | { late: null; ok: false; error: unknown } | { late: ObjectError }
  > {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<{ late: ObjectError }>((resolve) => {
      timer = setTimeout(() => {
        const seconds = limit >= 1000 ? `${limit / 1000} s` : `${limit} ms`;
        resolve({
          late: new ObjectError(
            `${what()} within ${seconds}: its code is waiting on something that never settles ` +
              "(a promise nothing resolves, or a call that waits on the event itself). " +
              "The event is still running.",
            500,
          ),
        });
      }, limit);
    });
    try {
      return await Promise.race([
        work.then(
          (value) => ({ late: null, ok: true as const, value }),
          (error: unknown) => ({ late: null, ok: false as const, error }),
        ),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
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
    const closed = this.#closedClasses.get(live.record.className) ?? this.#closedObjects.get(live.record.id);
    if (closed !== undefined) throw new ObjectError(closed, 503);
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
      host = (await this.#makeRoom()) ?? (await this.#acquireWorker());
    } catch (e) {
      rec.lastError = errorText(e);
      this.#registry.touch(rec);
      this.#log(rec, "error", `could not start: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    const slot = this.#slots.get(host)!;
    slot.object = live;
    try {
      await host.call((api) => api.activate(this.#identity(rec)));
    } catch (e) {
      slot.object = null;
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
      else this.#offer(host);
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
    live.spanRequests = 0;
    this.#slots.delete(host);
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
    await this.#retire(host);
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
    rec.storageBytes = this.#state.storageBytes(rec.className, rec.id);
    this.#registry.touch(rec);
    const slot = this.#slots.get(host);
    try {
      await host.call((api) => api.deactivate());
    } catch {
      void host.stop();
      return null;
    }
    if (slot) slot.object = null;
    return host.alive ? host : null;
  }

  /**
   * Why an object is not hibernating now, and when it will (see
   * why-awake.ts). With `probe`, its worker is asked too (waitUntil,
   * blockConcurrencyWhile, an open transaction, its fields), bounded to
   * PROBE_MS: an object spinning on its thread does not answer, and is
   * shown by what the orchestrator knows.
   */
  async whyAwake(id: string, opts: { probe: boolean }): Promise<WhyAwake | null> {
    const live = this.#live.get(id);
    const probe =
      opts.probe && live?.host?.alive && !live.starting
        ? await within(
            live.host.call((api) => api.probe()),
            PROBE_MS,
          )
        : null;
    return this.#whyAwake(id, probe);
  }

  /** whyAwake from what the orchestrator knows alone (no call into the worker), for tables. */
  whyAwakeNow(id: string): WhyAwake | null {
    return this.#whyAwake(id, null);
  }

  #whyAwake(id: string, probe: ObjectProbe | null): WhyAwake | null {
    const rec = this.#registry.get(id);
    if (!rec) return null;
    const live = this.#live.get(id);
    let standard = 0;
    let hibernatable = 0;
    for (const s of this.#sockets.list(id)) {
      if (!s.accepted || !s.open) continue;
      if (s.hibernatable) hibernatable++;
      else standard++;
    }
    return whyAwake({
      state: rec.state,
      live: !!live && (!!live.host || !!live.starting),
      starting: !!live?.starting,
      inFlight: live?.inFlight ?? 0,
      directCalls: live?.directBusy.size ?? 0,
      lastEventAt: live?.lastEventAt ?? rec.lastActive,
      idleSince: live?.idleSince ?? rec.lastActive,
      policy: { ...this.#opts.policy, ...this.#opts.classPolicies[rec.className] },
      standardSockets: standard,
      hibernatableSockets: hibernatable,
      alarmAt: this.#state.alarms(id)[0]?.time ?? null,
      probe,
      now: this.#clock.now(),
    });
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
  async fields(id: string): Promise<Record<string, string> | null> {
    const live = this.#live.get(id);
    if (!live?.host?.alive || live.starting) return null;
    const probe = await within(
      live.host.call((api) => api.probe()),
      PROBE_MS,
    );
    return probe?.fields ?? null;
  }

  /** New idle and hibernation timeouts (terrarium.json changed); the sweeper applies them from now on. */
  setPolicies(policy: LifecyclePolicy, classPolicies: LifecycleOptions["classPolicies"]): void {
    this.#opts.policy = policy;
    this.#opts.classPolicies = classPolicies;
  }

  /** Classes whose objects may not start while the class itself changes: class -> why. */
  readonly #closedClasses = new Map<string, string>();

  /**
   * Stops a class's objects before a change to the class itself (a rename,
   * a deletion): starting one is refused with a 503 saying `reason`, and
   * every live object of the class hibernates once what it has in flight
   * is done (its WebSockets are closed with 1012, as for a restart).
   * Resolves with the function that opens the class again; rejects, with
   * the class open, if objects stay busy past `timeoutMs`.
   */
  async closeClass(className: string, reason: string, timeoutMs = 10_000): Promise<() => void> {
    this.#closedClasses.set(className, reason);
    const reopen = (): void => {
      this.#closedClasses.delete(className);
    };
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const live = [...this.#live.values()].filter(
          (l) => l.record.className === className && (l.host || l.starting),
        );
        if (live.length === 0) return reopen;
        if (Date.now() > deadline) {
          throw new ObjectError(`${live.length} object(s) of ${className} stayed busy; try again`, 409);
        }
        for (const l of live) {
          if (!l.host || l.starting || busy(l) || l.updating) continue;
          this.#sockets.closeObject(l.record.id, 1012, reason);
          await this.hibernate(l.record.id, reason);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    } catch (e) {
      reopen();
      throw e;
    }
  }

  /** Objects that may not start while their storage is replaced (a restore, a reset): id -> why. */
  readonly #closedObjects = new Map<string, string>();

  /**
   * Stops one object before its storage is replaced: starting it is
   * refused with a 503 saying `reason`, and once what it has in flight is
   * done it hibernates (its WebSockets are closed with 1012, as for a
   * restart). Resolves with the function that opens it again; rejects, with
   * the object open, if it stays busy past `timeoutMs`.
   */
  async closeObject(id: string, reason: string, timeoutMs = 10_000): Promise<() => void> {
    this.#closedObjects.set(id, reason);
    const reopen = (): void => {
      this.#closedObjects.delete(id);
    };
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const l = this.#live.get(id);
        if (!l || (!l.host && !l.starting)) return reopen;
        if (Date.now() > deadline) throw new ObjectError(`the object stayed busy; try again`, 409);
        if (l.host && !l.starting && !busy(l) && !l.updating) {
          this.#sockets.closeObject(id, 1012, reason);
          await this.hibernate(id, reason);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    } catch (e) {
      reopen();
      throw e;
    }
  }

  /**
   * Copies a live object's database to `dest` in its worker, between its
   * events; false when no worker has the object right now (copy the file).
   */
  async snapshotLive(id: string, dest: string): Promise<boolean> {
    const live = this.#live.get(id);
    if (!live?.host || live.starting || live.updating) return false;
    await live.host.call((api) => api.snapshotTo(dest));
    return true;
  }

  /** The objects that have a worker now. */
  liveRecords(): ObjectRecord[] {
    return [...this.#live.values()].filter((l) => l.host).map((l) => l.record);
  }

  /**
   * Called once new code has loaded and passed its constructor checks, just
   * before the live objects in `objects` move to it (the engine snapshots
   * their storage here). A failure is logged; the update goes on.
   */
  beforeUpdate: (objects: ObjectRecord[]) => Promise<void> = async () => {};

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
        this.#slots.delete(host);
        await host.stop();
      }
    }
    this.#state.remove(rec.className, rec.id);
    this.#registry.remove(id);
    return true;
  }

  /** Objects holding a worker, or about to. */
  liveCount(): number {
    let n = 0;
    for (const l of this.#live.values()) if (l.host || l.starting) n++;
    return n;
  }

  inFlight(id: string): number {
    return this.#live.get(id)?.inFlight ?? 0;
  }

  /** Idle and hibernation timeouts; runs on the clock. */
  sweep(): void {
    const now = this.#clock.now();
    if (this.#groups.size > 0) this.#scale(now);
    for (const live of [...this.#live.values()]) {
      const rec = live.record;
      if (!live.host || busy(live) || live.starting) continue;
      if (rec.state === "Processing") {
        if (now - live.lastEventAt < SPAN_GAP_MS) continue;
        this.#endSpan(live);
      }
      const policy = { ...this.#opts.policy, ...this.#opts.classPolicies[rec.className] };
      if (rec.state === "Active" && now - live.lastEventAt >= policy.idleAfterMs) {
        this.transition(rec, "Idle", `no requests for ${policy.idleAfterMs} ms`);
        live.idleSince = now;
      } else if (
        rec.state === "Idle" &&
        now - live.idleSince >= policy.hibernateAfterMs &&
        !this.#sockets.pinsObject(rec.id)
      ) {
        void this.hibernate(rec.id, `idle for ${policy.hibernateAfterMs} ms`);
      }
    }
    // Objects that just went Idle can lend their workers to objects waiting for one.
    if (this.#waiters.length > 0) this.#supply();
  }

  /**
   * Keeps live workers under the cap: when it is reached, the least recently
   * used object with nothing in flight hibernates and its worker is handed
   * to the object that needs one (no thread start).
   */
  async #makeRoom(): Promise<WorkerHost | null> {
    const cap = this.#opts.maxLiveObjects;
    // The object asking is already counted (it is starting).
    if (this.liveCount() - 1 < cap) return null;
    const candidates = [...this.#live.values()]
      .filter(
        (l) =>
          l.host && !busy(l) && !l.starting && (l.record.state === "Active" || l.record.state === "Idle"),
      )
      .sort((a, b) => a.lastEventAt - b.lastEventAt);
    for (const c of candidates) {
      const host = await this.#hibernate(
        c.record.id,
        `live object cap (${cap}) reached; least recently used`,
      );
      if (host) return host;
    }
    return null;
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
        const f = this.foreign.get(binding)?.();
        if (f) return f.lifecycle.objectFetch(f.binding, id, name, req, null, trace);
        return this.objectFetch(binding, id, name, req, caller, trace);
      },
      objectRpc: (binding, id, name, method, args, caller, kind, trace) => {
        const f = this.foreign.get(binding)?.();
        if (f) return f.lifecycle.objectRpc(f.binding, id, name, method, args, null, kind, trace);
        return this.objectRpc(binding, id, name, method, args, caller, kind, trace);
      },
      serviceFetch: (binding, req) => this.services.fetch(binding, req),
      serviceRpc: (binding, method, args, kind) => this.services.rpc(binding, method, args, kind),
      publish: (topic, data, from, trace) => this.#publish(topic, data, from, trace),
      queueSend: (queue, messages, trace) => this.#queueSend(queue, messages, trace),
      workflow: (call) => this.#workflow(call),
      rateLimit: (binding, key, limit, period) => this.rateLimit(binding, key, limit, period),
      dataPoint: (point) => this.dataPoint(point),
      emitLog: (rec, level, message, time, source) => this.#emitLog(rec, level, message, time, source),
      traceLog: (rec, r) => logToTrace(this.tracer, rec, r),
      traceMock: (rec, call, trace) => mockSpan(this.tracer, rec, call, trace),
      peer: async (binding, id) => (this.foreign.has(binding) ? null : this.#peer(binding, id)),
      direct: (caller, reports) => this.#direct(caller, reports),
      rows: (objectId, read, written) => this.onRows?.(objectId, read, written),
      lose: (live, host, cause) => this.#lose(live, host, cause),
    };
  }

  #spawn(file: string, label: string): WorkerHost {
    const slot: Slot = { host: null as unknown as WorkerHost, object: null, code: null };
    const host = new WorkerHost({
      file,
      label,
      gateway: buildGateway(slot, this.#gatewayHub()),
      resourceLimits: { maxOldGenerationSizeMb: this.#opts.memoryLimitMb },
    });
    slot.host = host;
    this.#slots.set(host, slot);
    void host.exited.then(() => {
      this.#slots.delete(host);
      // Its calls on direct lines ended with it.
      forgetCaller(this.#live.values(), host);
    });
    return host;
  }

  /**
   * A worker with `code` loaded. If the module throws while loading, the
   * worker ends and the error says so; for the current code it also becomes
   * the loadFailure.
   */
  async #spawnLoaded(file: string, label: string, code: CodeVersion = this.#code): Promise<WorkerHost> {
    const host = this.#spawn(file, label);
    try {
      await host.call((api) => api.load(code.spec));
    } catch (e) {
      void host.stop();
      // A worker that died under the call is a crash, not the module's own error.
      if (e instanceof WorkerExitedError) throw e;
      throw this.#failedToLoad(code, e);
    }
    const slot = this.#slots.get(host);
    if (slot) slot.code = code;
    return host;
  }

  #isCurrent(host: WorkerHost): boolean {
    return this.#slots.get(host)?.code === this.#code;
  }

  /**
   * Worker supply. Starting a worker thread and loading better-sqlite3 in it
   * costs tens of milliseconds of CPU, so an object that needs a worker takes
   * the first of: a pre-started one from the pool, one an Idle object lends
   * (it hibernates a little early), or a newly started one; at most two
   * threads start at once, as many as this machine has cores. Whichever
   * becomes free first goes to the longest-waiting object.
   */
  #waiters: { resolve: (h: WorkerHost) => void; reject: (e: Error) => void; since: number }[] = [];
  #spawning = 0;
  #lending = 0;

  /**
   * The worker supply now, read by the load view to say what holds requests
   * back: objects waiting for a worker (and the longest wait so far),
   * pre-started workers ready, thread starts and loans under way.
   */
  workerSupply(): {
    waiting: number;
    longestWaitMs: number;
    pooled: number;
    starting: number;
    lending: number;
  } {
    const first = this.#waiters[0];
    return {
      waiting: this.#waiters.length,
      longestWaitMs: first ? this.#clock.now() - first.since : 0,
      pooled: this.#pool.length,
      starting: this.#spawning,
      lending: this.#lending,
    };
  }

  #acquireWorker(): Promise<WorkerHost> {
    if (this.#loadFailure) return Promise.reject(this.#loadFailure);
    const pooled = this.#takePooled();
    if (pooled) return Promise.resolve(pooled);
    return new Promise<WorkerHost>((resolve, reject) => {
      this.#waiters.push({ resolve, reject, since: this.#clock.now() });
      this.#supply();
    });
  }

  #takePooled(): WorkerHost | null {
    let host: WorkerHost | undefined;
    while ((host = this.#pool.shift())) {
      if (host.alive && this.#isCurrent(host)) {
        // Not at once: a thread start takes a core for tens of milliseconds,
        // and the object that took this worker is about to run its first request.
        setTimeout(() => this.#refillPool(), REFILL_DELAY_MS).unref();
        return host;
      }
      void host.stop();
    }
    return null;
  }

  /** A free, current worker: to the longest waiter, else the pool, else ended. */
  #offer(host: WorkerHost): void {
    if (this.#closed || !this.#isCurrent(host) || !host.alive) {
      void host.stop();
      this.#supply();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(host);
    else if (this.#pool.length < Math.max(this.#opts.poolSize, MAX_IDLE_WORKERS)) this.#pool.push(host);
    else void host.stop();
  }

  /**
   * An object that has been Idle for a while (see loanAfter), so not part of
   * the working set: lending from busier objects only makes them cold again
   * a moment later.
   */
  #lender(): LiveObject | null {
    const now = this.#clock.now();
    let oldest: LiveObject | null = null;
    for (const l of this.#live.values()) {
      if (l.record.state !== "Idle" || !l.host || busy(l) || l.starting || l.updating) continue;
      const policy = { ...this.#opts.policy, ...this.#opts.classPolicies[l.record.className] };
      if (now - l.idleSince < loanAfter(policy)) continue;
      if (this.#sockets.pinsObject(l.record.id)) continue;
      if (!oldest || l.lastEventAt < oldest.lastEventAt) oldest = l;
    }
    return oldest;
  }

  /**
   * Works toward a worker for every waiter: loans from Idle objects first,
   * even while thread starts are under way (a loan takes milliseconds, a
   * start tens of them), then thread starts.
   */
  #supply(): void {
    if (this.#closed || this.#loadFailure) return;
    while (this.#waiters.length > this.#lending) {
      const lender = this.#lender();
      if (lender) {
        this.#lending++;
        void this.#hibernate(
          lender.record.id,
          "its worker went to a new object (no pre-started worker was free)",
        )
          .then((h) => {
            this.#lending--;
            if (h) this.#offer(h);
            else this.#supply();
          })
          .catch(() => {
            this.#lending--;
            this.#supply();
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
    void this.#spawnLoaded(this.#code.hostFile, "object")
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
        (h) => this.#offer(h),
        (e: unknown) => {
          if (this.#closed) return;
          // A worker that cannot load the code fails the oldest waiter rather than looping.
          this.#waiters.shift()?.reject(e instanceof Error ? e : new Error(String(e)));
          this.#emitLog(
            null,
            "error",
            `could not start a worker: ${String(e)}`,
            this.#clock.now(),
            "terrarium",
          );
        },
      )
      .finally(() => {
        this.#spawning--;
        this.#supply();
        this.#refillPool();
      });
  }

  /** Idle objects whose workers could be lent to a new object. */
  #idleSupply(): number {
    const now = this.#clock.now();
    let n = 0;
    for (const l of this.#live.values()) {
      if (l.record.state !== "Idle" || !l.host || busy(l)) continue;
      const policy = { ...this.#opts.policy, ...this.#opts.classPolicies[l.record.className] };
      if (now - l.idleSince >= loanAfter(policy)) n++;
    }
    return n;
  }

  /** Keeps a few pre-started workers ready, unless Idle objects or the live cap can supply them. */
  #refillPool(): void {
    if (this.#closed || this.#loadFailure || this.#waiters.length > 0) return;
    const room = this.#opts.maxLiveObjects + this.#opts.poolSize - this.liveCount() - this.#idleSupply();
    const want = Math.min(this.#opts.poolSize, room);
    while (this.#pool.length + this.#spawning < want && this.#spawning < SPAWN_CONCURRENCY) this.#spawn1();
  }

  /** A deactivated worker: back to a waiter or the pool if there is room, else ended. */
  async #retire(host: WorkerHost): Promise<void> {
    this.#offer(host);
  }

  // ---- calls from the router and from workers ----

  readonly #validIds = new Map<string, string>();

  #resolve(binding: string, id: string): { className: string; id: string } {
    const className = this.classForBinding(binding);
    const key = `${className}:${id}`;
    const known = this.#validIds.get(key);
    if (known) return { className, id: known };
    try {
      const valid = idFromString(this.nsKey(className), id);
      if (this.#validIds.size >= 50_000) this.#validIds.clear();
      this.#validIds.set(key, valid);
      return { className, id: valid };
    } catch (e) {
      throw new ObjectError((e as Error).message, 400);
    }
  }

  async objectFetch(
    binding: string,
    idHex: string,
    name: string | null,
    req: SerializedRequest,
    _from: ObjectRecord | null,
    trace?: TraceContext,
  ): Promise<SerializedResponse> {
    const { className, id } = this.#resolve(binding, idHex);
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
    args: unknown[],
    _from: ObjectRecord | null,
    kind: "call" | "get" = "call",
    trace?: TraceContext,
  ): Promise<unknown> {
    const { className, id } = this.#resolve(binding, idHex);
    const cause = kind === "call" ? `rpc ${method}()` : `rpc get ${method}`;
    return this.run({ className, id, name, kind: "rpc", cause, trace }, (api, span) =>
      api.rpc(method, args, kind, span),
    );
  }

  /** A direct line from a worker to the worker of a live object it calls often (direct-lines.ts). */
  async #peer(binding: string, idHex: string): Promise<MessagePort | null> {
    const { id } = this.#resolve(binding, idHex);
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

  /**
   * Runs a statement from the Inspector on a live object's database, in its
   * worker (which has the file open) between its events; null when the
   * object has no worker right now (run it on the file instead).
   */
  async adminSql(id: string, sql: string, params: unknown[]): Promise<QueryResult | null> {
    const live = this.#live.get(id);
    if (!live?.host || live.starting || live.updating) return null;
    const result = await live.host.call((api) => api.adminSql(sql, params));
    live.record.storageBytes = this.#state.storageBytes(live.record.className, live.record.id);
    this.#registry.touch(live.record);
    return result;
  }

  /**
   * Collects the direct-line calls workers have done but not yet reported
   * (they report every few milliseconds), so counts read right after a run
   * include every call.
   */
  async settleDirect(): Promise<void> {
    await Promise.all(
      [...this.#slots.keys()].map(async (host) => {
        if (!host.alive) return;
        const reports = await host.call((api) => api.takeDirect()).catch(() => null);
        if (reports && reports.length > 0) this.#direct(host, reports);
      }),
    );
  }

  /** Runs `fn` on an entry worker (a queue batch, a Workflow instance's run), starting one if none is alive. */
  async entryCall<T>(fn: (api: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T> {
    if (this.#loadFailure) throw this.#loadFailure;
    return (await this.#entryHost()).call(fn);
  }

  /** The next entry worker, restarted if it ended. */
  async #entryHost(): Promise<WorkerHost> {
    let host = this.#entries[this.#entryNext++ % this.#entries.length];
    if (!host || !host.alive) {
      const i = host ? this.#entries.indexOf(host) : 0;
      host = await this.#spawnLoaded(this.#code.entryFile, "entry");
      this.#entries[i] = host;
    }
    return host;
  }

  /**
   * A service binding's call into this Worker: its `entrypoint` export's
   * fetch() or an RPC method, on an entry worker, bounded as a request to
   * the entry Worker is.
   */
  async entrypointCall(
    entrypoint: string | null,
    call: { fetch: SerializedRequest } | { method: string; args: unknown[]; kind: "call" | "get" },
  ): Promise<unknown> {
    if (this.#loadFailure) throw this.#loadFailure;
    const entry = await this.#entryHost();
    const what = "fetch" in call ? `${call.fetch.method} ${pathOf(call.fetch.url)}` : `rpc ${call.method}()`;
    const transfer = "fetch" in call ? bodyTransfer(call.fetch) : [];
    const answered = await this.#bounded(
      entry.call((api) => api.entrypoint(entrypoint, Comlink.transfer(call, transfer))),
      this.#opts.answerTimeoutMs + ENTRY_ANSWER_GRACE_MS,
      () => `The Worker ${this.#code.spec.workerName} gave no answer to ${what}`,
    );
    if (answered.late) {
      this.#log(null, "error", answered.late.message);
      throw answered.late;
    }
    if (!answered.ok) throw answered.error;
    return answered.value;
  }

  /** Sends a request to the entry Worker. */
  async entryFetch(req: SerializedRequest, trace?: TraceContext): Promise<SerializedResponse> {
    if (this.#loadFailure) throw this.#loadFailure;
    const entry = await this.#entryHost();
    const cause = `${req.method} ${pathOf(req.url)}`;
    const span = trace && this.tracer ? this.tracer.begin(trace, "entry", { name: cause }) : null;
    // The entry's bound is a little longer than an object's, so that when it
    // waits on an object that hangs, the object's own reason reaches the client.
    const answered = await this.#bounded(
      entry.fetch(req, span?.ctx),
      this.#opts.answerTimeoutMs + ENTRY_ANSWER_GRACE_MS,
      () => `The entry Worker gave no answer to ${cause}`,
    );
    if (span) endAnswered(this.tracer, span, answered);
    if (answered.late) {
      this.#log(null, "error", answered.late.message);
      throw answered.late;
    }
    if (!answered.ok) throw answered.error;
    const res = answered.value;
    if (res.webSocket) this.#sockets.claim(res.webSocket, { kind: "entry", host: entry });
    return res;
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

  // ---- sharding (the Scaling state) ----

  #shardPolicies = new Map<string, ShardingPolicy>();
  readonly #groups = new Map<string, ShardGroup>();

  setSharding(policies: Record<string, ShardingPolicyConfig>): void {
    this.#shardPolicies = new Map(Object.entries(policies).map(([c, p]) => [c, resolvePolicy(p)]));
    for (const [k, g] of this.#groups) {
      const p = this.#shardPolicies.get(g.className);
      if (!p) this.#groups.delete(k);
      else {
        g.policy = p;
        g.shards = Math.min(p.maxShards, Math.max(p.minShards, g.shards));
      }
    }
  }

  /**
   * The object a routed request goes to: the route's object itself, or, for
   * a sharded class, the shard its key hashes to at the current shard count.
   */
  shardTarget(
    className: string,
    binding: string,
    base: string,
    expand: (template: string) => string,
  ): string {
    const policy = this.#shardPolicies.get(className);
    if (!policy) return base;
    const key = `${className}\u0000${base}`;
    let group = this.#groups.get(key);
    if (!group) {
      group = {
        className,
        binding,
        base,
        policy,
        shards: policy.minShards,
        ...freshScalerMemory(),
      };
      this.#groups.set(key, group);
    }
    return nameForKey(group, expand(policy.key));
  }

  shardGroups(): {
    className: string;
    base: string;
    shards: number;
    names: string[];
    seen: ScalerView | null;
  }[] {
    return [...this.#groups.values()].map((g) => ({
      className: g.className,
      base: g.base,
      shards: g.shards,
      names: shardNames(g),
      seen: g.seen && { ...g.seen },
    }));
  }

  #scale(now: number): void {
    for (const group of this.#groups.values()) {
      const names = shardNames(group);
      const ns = this.nsKey(group.className);
      const ids = names.map((n) => idFromName(ns, n));
      const total = ids.reduce((sum, id) => sum + (this.#live.get(id)?.inFlight ?? 0), 0);
      const d = decide(group, total / group.shards, now);
      if (!d) continue;
      group.shards = d.to;
      const cause = `scaling ${group.base} from ${d.from} to ${d.to} shards: ${d.reason}`;
      for (const id of ids.slice(0, d.to)) {
        const live = this.#live.get(id);
        if (!live?.host) continue;
        if (live.record.state === "Active") {
          this.transition(live.record, "Scaling", cause);
          this.transition(live.record, "Active", "shards rebalanced");
        } else {
          // Busy shards take their Scaling step when their Processing span ends.
          live.pendingScaling = live.pendingScaling ? `${live.pendingScaling}; then ${cause}` : cause;
        }
      }
      if (d.change === "up") {
        const name = shardObjectName(group.base, group.policy.shardName, d.to - 1);
        void this.warm(group.className, idFromName(ns, name), name, cause).catch((e: unknown) =>
          this.#log(null, "error", `could not start shard ${name}: ${errorText(e)}`),
        );
      }
    }
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

  /**
   * Moves the project to new code. The new module is loaded and each live
   * class's constructor is tried on a copy of one of its objects' storage
   * first; if either throws, the update is refused and the old code keeps
   * serving. Then every live object goes Active -> Updating -> Active: its
   * in-flight events finish, new ones wait, its worker restarts on the new
   * code, and its storage (and its WebSockets) stay.
   */
  updateCode(
    next: CodeVersion,
    cause = "code changed",
    opts: { probe?: UpdateProbe[] } = {},
  ): Promise<UpdateResult> {
    const run = this.#updateChain.then(() => this.#update(next, cause, opts.probe ?? []));
    this.#updateChain = run.catch(() => {});
    return run;
  }

  async #update(next: CodeVersion, cause: string, probes: UpdateProbe[]): Promise<UpdateResult> {
    if (this.#closed) return { ok: false, updated: 0, error: "Terrarium is shutting down" };
    let probe: WorkerHost;
    try {
      probe = await this.#spawnLoaded(next.entryFile, "entry", next);
    } catch (e) {
      // Code that never loaded has nothing to keep serving: the newest error is the one to show.
      if (this.#loadFailure && e instanceof ModuleLoadError) this.#loadFailure = e;
      const why = e instanceof ModuleLoadError ? e.reason : errorText(e);
      return { ok: false, updated: 0, error: `the new code failed to load: ${why}` };
    }
    const liveObjects = [...this.#live.values()].filter((l) => l.host);
    const sampleByClass = new Map<string, UpdateProbe>();
    for (const l of liveObjects)
      if (!sampleByClass.has(l.record.className)) sampleByClass.set(l.record.className, l.record);
    for (const p of probes) if (!sampleByClass.has(p.className)) sampleByClass.set(p.className, p);
    const scratch = mkdtempSync(join(tmpdir(), "terrarium-update-"));
    try {
      for (const [className, sample] of sampleByClass) {
        if (!next.spec.durableObjects.some((b) => b.className === className)) continue;
        const dbPath = join(scratch, `${className}.sqlite`);
        const src = this.#state.dbPath(className, sample.id);
        // A consistent snapshot of the live database (copying its files could catch a checkpoint half-way).
        if (existsSync(src)) this.#state.snapshot(className, sample.id, dbPath);
        const trial = await this.#spawnLoaded(next.hostFile, "object", next);
        try {
          await trial.call((api) =>
            api.activate({
              className,
              id: sample.id,
              name: sample.name,
              dbPath,
              alarm: null,
              sockets: [],
            }),
          );
          await trial.call((api) => api.deactivate());
        } catch (e) {
          void probe.stop();
          return {
            ok: false,
            updated: 0,
            error: `${className}'s constructor throws on the new code: ${errorText(e)}`,
          };
        } finally {
          void trial.stop();
        }
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }

    try {
      await this.beforeUpdate(liveObjects.map((l) => l.record));
    } catch (e) {
      this.#log(null, "warn", `before the update: ${errorText(e)}`);
    }
    const old = this.#code;
    this.#code = next;
    if (this.#loadFailure) {
      this.#loadFailure = null;
      this.#log(null, "info", "the Worker's main module loads again");
    }
    this.#keys.clear();
    this.#validIds.clear();
    const oldEntries = this.#entries;
    this.#entries = [probe];
    while (this.#entries.length < Math.max(1, this.#opts.entryWorkers)) {
      this.#entries.push(await this.#spawnLoaded(next.entryFile, "entry", next));
    }
    // Calls already on the old entry workers get a moment to finish.
    setTimeout(() => oldEntries.forEach((h) => void h.stop()), 5_000).unref();
    for (const h of this.#pool.splice(0)) void h.stop();
    this.#refillPool();

    let updated = 0;
    await Promise.all(
      liveObjects.map(async (live) => {
        if (await this.#updateObject(live, old, cause)) updated++;
      }),
    );
    return { ok: true, updated, error: null };
  }

  async #updateObject(live: LiveObject, _old: CodeVersion, cause: string): Promise<boolean> {
    let release!: () => void;
    live.updating = new Promise<void>((r) => (release = r));
    try {
      while ((live.inFlight > 0 || live.starting) && !this.#closed)
        await new Promise((r) => setTimeout(r, 5));
      const oldHost = live.host;
      if (!oldHost || this.#closed || this.#live.get(live.record.id) !== live) return false;
      // Direct lines into the object refuse new calls from here on (their
      // callers come back through run(), which waits for this update); the
      // calls already running finish first.
      await oldHost.call((api) => api.leave()).catch(() => {});
      while ((live.directBusy.size > 0 || live.inFlight > 0) && !this.#closed)
        await new Promise((r) => setTimeout(r, 5));
      const rec = live.record;
      if (this.#closed) return false;
      this.#endSpan(live);
      if (rec.state === "Idle") this.transition(rec, "Active", cause);
      if (rec.state !== "Active") return false;
      this.transition(rec, "Updating", cause);
      live.host = null;
      live.generation++;
      await oldHost.call((api) => api.deactivate()).catch(() => {});
      void oldHost.stop();
      const host = await this.#acquireWorker();
      const slot = this.#slots.get(host)!;
      slot.object = live;
      try {
        await host.call((api) => api.activate(this.#identity(rec)));
      } catch (e) {
        slot.object = null;
        void host.stop();
        rec.lastError = `constructor failed on the new code: ${errorText(e)}`;
        this.transition(rec, "Active", rec.lastError);
        this.#walk(rec, "Hibernating", rec.lastError);
        this.#live.delete(rec.id);
        return false;
      }
      live.host = host;
      void host.exited.then((exit) => {
        if (!exit.requested && live.host === host) void this.#lose(live, host, `reset: ${exitText(exit)}`);
      });
      this.transition(rec, "Active", "running the new code");
      return true;
    } finally {
      live.updating = null;
      release();
    }
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
    for (const w of this.#waiters.splice(0)) w.reject(new ObjectError("Terrarium is shutting down", 503));
    const deadline = Date.now() + graceMs;
    while (this.busyObjects() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));

    const cut: CutShort[] = [];
    const ending: Promise<void>[] = [];
    const deactivateBy = Math.max(deadline, Date.now() + DEACTIVATE_MS);
    for (const live of [...this.#live.values()]) {
      const rec = live.record;
      // A starting object has a worker (its slot) but not yet live.host.
      const host = live.host ?? [...this.#slots.values()].find((s) => s.object === live)?.host ?? null;
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
    await Promise.all([...this.#slots.keys()].map((h) => h.stop()));
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
