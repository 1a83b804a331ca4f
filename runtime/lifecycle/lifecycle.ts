import type * as Comlink from "comlink";
import type { RpcArgs } from "../shared/rpc-wire.ts";
import type { ShardingPolicyConfig } from "../config/terrarium.ts";
import type { SerializedRequest, SerializedResponse, WorkerApi } from "../host/protocol.ts";
import type { WorkerHost } from "../host/worker-host.ts";
import { Namespaces } from "../registry/namespaces.ts";
import type { ObjectRecord, ServiceRegistry } from "../registry/registry.ts";
import type { Clock } from "../shared/clock.ts";
import { errorText } from "../shared/errors.ts";
import type { EngineEvents } from "../shared/events.ts";
import type { LifecycleState } from "../shared/lifecycle-model.ts";
import type { QueryResult } from "../shared/sql-query.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import type { StateManager } from "../state/state-manager.ts";
import type { TraceStore } from "../state/traces.ts";
import { Activation } from "./activation.ts";
import { ObjectCalls, type MatchedRoute } from "./calls.ts";
import { stopObjects, type CutShort } from "./close.ts";
import { Closures } from "./closures.ts";
import { CodeUpdates, type BeforeUpdate, type CodeUpdateResult, type UpdateProbe } from "./code-update.ts";
import { DirectLines } from "./direct-lines.ts";
import { EntryWorkers } from "./entry.ts";
import { buildGateway, servicesOf, type GatewayHub, type WorkerServices } from "./gateway.ts";
import { Hibernation } from "./hibernation.ts";
import { Inspection } from "./inspect.ts";
import {
  countBusy,
  countLive,
  ObjectError,
  type CodeVersion,
  type Dispatch,
  type LifecycleOptions,
  type LifecyclePolicy,
  type LiveObject,
} from "./live.ts";
import { LoadFailure } from "./load-failure.ts";
import { ObjectLogs } from "./logs.ts";
import { Loss } from "./loss.ts";
import { WorkerPool, type WorkerObject, type WorkerSupply } from "./pool.ts";
import { ObjectRecords } from "./records.ts";
import { Sharding, type ShardGroupView } from "./sharding.ts";
import type { ObjectSockets } from "./sockets.ts";
import { bounded } from "./timing.ts";
import { beginObjectSpan, endObjectSpan } from "./tracing.ts";
import { terminateObject, type TerminateDeps } from "./terminate.ts";
import { CpuWatchdog } from "./watchdog.ts";
import type { WhyAwake } from "./why-awake.ts";
import { noLinks, type WorkerLinks } from "./workers.ts";

export {
  defaultLifecycleOptions,
  ModuleLoadError,
  ObjectError,
  type CodeVersion,
  type Dispatch,
  type LifecycleOptions,
  type LifecyclePolicy,
} from "./live.ts";
export type { BeforeUpdate, CodeUpdateResult, UpdateProbe } from "./code-update.ts";
export type { CutShort } from "./close.ts";
export type { Publish, WorkerServices } from "./gateway.ts";
export type { WorkerObject } from "./pool.ts";

/** What a Lifecycle Manager is made with; the services (WorkerServices) are what its workers reach through the gateway. */
export interface LifecycleDeps extends WorkerServices {
  registry: ServiceRegistry;
  state: StateManager;
  clock: Clock;
  events: EngineEvents;
  options: LifecycleOptions;
  code: CodeVersion;
  sockets: ObjectSockets;
  /** Runs before live objects move to new code (code-update.ts; the engine snapshots them). */
  beforeUpdate?: BeforeUpdate | undefined;
  /** Where service bindings and Durable Object bindings with a script_name lead; none without. */
  links?: WorkerLinks | undefined;
  /** The classes' sharding policies (terrarium.json); setSharding changes them. */
  sharding?: Record<string, ShardingPolicyConfig> | undefined;
  /** Where spans go (docs/traces.md); null or absent: nothing is traced. */
  tracer?: TraceStore | null | undefined;
}

/**
 * The Lifecycle Manager: drives every object through the seed's state
 * machine, gives it a worker thread when it needs one (from a pool of
 * pre-started workers), takes it away when it idles (Hibernating) or when
 * too many are live, and watches for objects that spin or crash.
 */
export class LifecycleManager {
  readonly #registry: ServiceRegistry;
  readonly #clock: Clock;
  readonly #events: EngineEvents;
  readonly #opts: LifecycleOptions;
  /** Objects that have, or are getting, a worker. */
  readonly #live = new Map<string, LiveObject>();
  #code: CodeVersion;
  /** The current code's bindings and namespaces (replaced with the code). */
  #namespaces: Namespaces;
  #closed = false;
  readonly #sweeper: { cancel(): void };
  /** Where spans go (docs/traces.md); null: nothing is traced. */
  readonly tracer: TraceStore | null;
  // The parts, each given what it needs in its constructor:
  readonly #records: ObjectRecords;
  readonly #logs: ObjectLogs;
  readonly #loadFailure: LoadFailure;
  readonly #sharding: Sharding;
  readonly #calls: ObjectCalls;
  readonly #direct: DirectLines<LiveObject>;
  readonly #loss: Loss;
  readonly #pool: WorkerPool;
  readonly #hibernation: Hibernation;
  readonly #entries: EntryWorkers;
  readonly #inspection: Inspection;
  readonly #closures: Closures;
  readonly #activation: Activation;
  readonly #updates: CodeUpdates;
  readonly #watchdog: CpuWatchdog;
  readonly #terminating: TerminateDeps;

  constructor(deps: LifecycleDeps) {
    this.#registry = deps.registry;
    this.#clock = deps.clock;
    this.#events = deps.events;
    this.#opts = deps.options;
    this.#code = deps.code;
    this.#namespaces = new Namespaces(deps.code.spec.workerName, deps.code.bindings);
    this.tracer = deps.tracer ?? null;
    this.#records = new ObjectRecords({ ...deps, live: this.#live });
    this.#logs = new ObjectLogs(deps);
    const links = deps.links ?? noLinks;
    const log = (message: string): void => this.#logs.terrarium(null, "error", message);
    // What the parts may read and call of the manager; each part's deps name what it takes.
    const core = {
      live: this.#live,
      registry: this.#registry,
      state: deps.state,
      clock: this.#clock,
      events: this.#events,
      options: this.#opts,
      sockets: deps.sockets,
      logs: this.#logs,
      tracer: this.tracer,
      closed: () => this.#closed,
      namespaces: () => this.#namespaces,
      transition: (rec: ObjectRecord, to: LifecycleState, cause: string) =>
        this.#records.transition(rec, to, cause),
      walk: (rec: ObjectRecord, to: LifecycleState, cause: string) => this.#records.walk(rec, to, cause),
      lose: (live: LiveObject, host: WorkerHost, cause: string) => this.#loss.lose(live, host, cause),
    };
    this.#loadFailure = new LoadFailure({
      code: () => this.#code,
      log: (level, message) => this.#logs.terrarium(null, level, message),
      failWaiters: (e) => this.#pool.failWaiters(e),
    });
    this.#sharding = new Sharding({
      ...core,
      key: (className) => this.#namespaces.key(className),
      warm: (className, id, name, cause) => this.warm(className, id, name, cause),
      error: log,
    });
    if (deps.sharding) this.#sharding.set(deps.sharding);
    this.#calls = new ObjectCalls({
      ...core,
      sharding: this.#sharding,
      links,
      run: (d, fn) => this.run(d, fn),
    });
    this.#direct = new DirectLines({
      ...core,
      links,
      workers: { slots: () => this.#pool.slots() },
      beginProcessing: (live, cause) => this.#hibernation.beginProcessing(live, cause),
    });
    this.#loss = new Loss({ ...core, pool: { forget: (host) => this.#pool.forget(host) } });
    const gateway: GatewayHub<LiveObject> = {
      ...core,
      lostWhy: this.#loss.why,
      services: servicesOf(deps),
      calls: this.#calls.forWorkers(),
      direct: this.#direct,
    };
    this.#pool = new WorkerPool({
      ...core,
      code: () => this.#code,
      loadFailure: () => this.#loadFailure.error,
      failedToLoad: (code, e) => this.#loadFailure.failed(code, e),
      gateway: (slot) => buildGateway(slot, gateway),
      lend: (id, cause) => this.#hibernation.lend(id, cause),
      error: log,
    });
    this.#hibernation = new Hibernation({
      ...core,
      pool: this.#pool,
      scale: (now) => this.#sharding.scale(now),
    });
    this.#terminating = { ...core, pool: this.#pool };
    this.#entries = new EntryWorkers({
      ...core,
      pool: this.#pool,
      code: () => this.#code,
      loadFailure: () => this.#loadFailure.error,
      error: log,
    });
    this.#inspection = new Inspection(core);
    this.#closures = new Closures({ ...core, hibernate: (id, cause) => this.hibernate(id, cause) });
    this.#activation = new Activation({ ...core, pool: this.#pool, closures: this.#closures });
    this.#updates = new CodeUpdates({
      ...core,
      pool: this.#pool,
      beforeUpdate: deps.beforeUpdate ?? (async () => {}),
      stillFailing: (e) => this.#loadFailure.stillFailing(e),
      adopt: (next, entry) => this.#adopt(next, entry),
      endSpan: (live) => this.#hibernation.endSpan(live),
      identity: (rec) => this.#activation.identity(rec),
      log: (level, message) => this.#logs.terrarium(null, level, message),
    });
    this.#sweeper = this.#clock.setInterval(() => this.sweep(), 100);
    this.#watchdog = new CpuWatchdog(core);
  }

  /**
   * Starts the entry workers and the pool. Code whose main module throws
   * while loading does not stop the start: every event fails with that
   * error (see loadFailure) until new code loads.
   */
  async start(): Promise<void> {
    this.#records.settleAfterRestart();
    await this.#entries.start();
    this.#pool.refill();
  }

  get options(): LifecycleOptions {
    return this.#opts;
  }

  get code(): CodeVersion {
    return this.#code;
  }

  /** The Service Registry's binding -> class and id lookups for the current code. */
  get namespaces(): Namespaces {
    return this.#namespaces;
  }

  /** Why the current code does not load (load-failure.ts), or null. */
  get loadFailure(): string | null {
    return this.#loadFailure.error?.message ?? null;
  }

  /** The names the project's main module exports as functions or classes; null while it does not load. */
  exportedClasses(): Promise<string[] | null> {
    return this.#entries.exportedClasses();
  }

  // ---- events on objects ----

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
    let live = this.#records.live(d.className, d.id, d.name, d.cause);
    while (live.updating) {
      await live.updating;
      live = this.#records.live(d.className, d.id, d.name, d.cause);
    }
    live.inFlight++;
    const generation = live.generation;
    const started = this.#clock.now();
    const span = beginObjectSpan(this.tracer, d, live.record);
    const work = (async () => {
      const host = await this.#activation.ensure(live, d.cause);
      if (live.generation !== generation)
        throw new ObjectError("the object was reset while the request waited", 503);
      this.#hibernation.beginProcessing(live, d.cause);
      return this.#loss.watch(live, host, (api) => fn(api, span?.ctx));
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
        // flight for SPAN_GAP_MS (hibernation.ts), so steady traffic is one
        // span, not two transitions per request.
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
      this.#logs.terrarium(live.record, "error", answered.late.message);
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
   * Wakes an object without an event: its constructor runs on its storage
   * (and its hibernatable sockets come back with their attachments), as
   * when a request wakes it. Resolves once it is Active.
   */
  async wake(id: string, cause: string): Promise<void> {
    const rec = this.#registry.get(id);
    if (!rec) throw new ObjectError(`no object with id ${id}`, 404);
    const live = this.#records.live(rec.className, id, rec.name, cause);
    live.lastEventAt = this.#clock.now();
    await this.#activation.ensure(live, cause);
  }

  /** Creates (or wakes) an object without an event, e.g. a new shard. */
  async warm(className: string, id: string, name: string | null, cause: string): Promise<void> {
    const live = this.#records.live(className, id, name, cause);
    await this.#activation.ensure(live, cause);
  }

  // ---- idling, hibernation, the end ----

  /** Idle and hibernation timeouts; runs on the clock (hibernation.ts). */
  sweep(): void {
    this.#hibernation.sweep();
  }

  /** New idle and hibernation timeouts (terrarium.json changed); the sweeper applies them from now on. */
  setPolicies(policy: LifecyclePolicy, classPolicies: LifecycleOptions["classPolicies"]): void {
    this.#opts.policy = policy;
    this.#opts.classPolicies = classPolicies;
  }

  /** Ends an object's worker and leaves it Hibernating (storage kept; hibernation.ts). */
  hibernate(id: string, cause: string): Promise<boolean> {
    return this.#hibernation.hibernate(id, cause);
  }

  /** Ends an object for good: worker, storage and alarm (terminate.ts). */
  terminate(id: string, cause: string): Promise<boolean> {
    return terminateObject(this.#terminating, id, cause);
  }

  #closing: Promise<CutShort[]> | null = null;

  /**
   * Stops every object, in bounded time (close.ts): new events are refused
   * (503) at once, those in flight get `graceMs` to finish, then what is
   * still running is cut short. The CPU watchdog runs until the last worker
   * is gone. Resolves with the objects that were cut short; `why` says why
   * in their records.
   */
  close(graceMs = 5_000, why = `the ${graceMs} ms grace period ended`): Promise<CutShort[]> {
    this.#closing ??= this.#close(graceMs, why);
    return this.#closing;
  }

  async #close(graceMs: number, why: string): Promise<CutShort[]> {
    this.#closed = true;
    this.#sweeper.cancel();
    const cut = await stopObjects(
      { live: this.#live, pool: this.#pool, walk: (rec, to, cause) => this.#records.walk(rec, to, cause) },
      graceMs,
      why,
    );
    this.#watchdog.stop();
    return cut;
  }

  // ---- readings ----

  /** The objects that have a worker now. */
  liveRecords(): ObjectRecord[] {
    return [...this.#live.values()].filter((l) => l.host).map((l) => l.record);
  }

  /** Objects holding a worker, or about to. */
  liveCount(): number {
    return countLive(this.#live.values());
  }

  inFlight(id: string): number {
    return this.#live.get(id)?.inFlight ?? 0;
  }

  /** Objects with an event in flight (or starting to take one). */
  busyObjects(): number {
    return countBusy(this.#live.values());
  }

  /** How many workers are running (pooled, lent or hosting an object). */
  workerCount(): number {
    return this.#pool.size;
  }

  /** The worker supply now, read by the load view to say what holds requests back (see WorkerPool). */
  workerSupply(): WorkerSupply {
    return this.#pool.supplyNow();
  }

  /**
   * Calls `fn` each time a worker thread (by `threadId`) is given an object
   * to serve, or none (see WorkerPool.watch).
   */
  watchWorkers(fn: (threadId: number, object: WorkerObject | null) => void): void {
    this.#pool.watch(fn);
  }

  /** Whether a worker is, or is becoming, this object (and so may have its database open). */
  hostsObject(id: string): boolean {
    return this.#pool.hosts(id);
  }

  /** Each worker, the object it serves (null: none) and its event-loop busy time so far (WorkerPool.loads). */
  workerLoads(): IterableIterator<{ worker: object; objectId: string | null; cpuUsage(): number }> {
    return this.#pool.loads();
  }

  /**
   * The next event that would start object `id` fails with `message` (HTTP
   * 500) instead, once; the one after runs it. A supervised `serve` uses it
   * for the object whose allocation ended the previous process, so that
   * its caller learns why and a retry loop cannot restart the server back
   * to back.
   */
  refuseOnce(id: string, message: string): void {
    this.#activation.refuseOnce(id, message);
  }

  // ---- calls from the router and from workers (calls.ts, direct-lines.ts, entry.ts) ----

  /** A request the router matched to a terrarium.json route (calls.ts). */
  routedFetch(
    route: MatchedRoute,
    req: SerializedRequest,
    trace?: TraceContext,
  ): Promise<SerializedResponse> {
    return this.#calls.routedFetch(route, req, trace);
  }

  /** A stub's fetch from a worker of this Worker (`_from`: the calling object, null: the entry Worker). */
  objectFetch(
    binding: string,
    idHex: string,
    name: string | null,
    req: SerializedRequest,
    _from: ObjectRecord | null,
    trace?: TraceContext,
  ): Promise<SerializedResponse> {
    return this.#calls.fetch(binding, idHex, name, req, trace);
  }

  /** A stub's RPC method call or property get. */
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
    return this.#calls.rpc(binding, idHex, name, method, args, kind, trace);
  }

  /** Calls served on direct lines between workers, since start (direct-lines.ts). */
  get directCalls(): number {
    return this.#direct.calls;
  }

  /** Collects the direct-line calls workers have not reported yet, so counts read after a run include them. */
  settleDirect(): Promise<void> {
    return this.#direct.settle();
  }

  /** Sends a request to the entry Worker. */
  entryFetch(req: SerializedRequest, trace?: TraceContext): Promise<SerializedResponse> {
    return this.#entries.fetch(
      req,
      trace && this.tracer ? { tracer: this.tracer, parent: trace } : undefined,
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

  // ---- the Inspector's looks (inspect.ts) and closures (closures.ts) ----

  /** Why an object is not hibernating now, and when it will (inspect.ts); `probe` asks its worker too. */
  whyAwake(id: string, opts: { probe: boolean }): Promise<WhyAwake | null> {
    return this.#inspection.whyAwake(id, opts);
  }

  /** whyAwake from what the orchestrator knows alone (no call into the worker), for tables. */
  whyAwakeNow(id: string): WhyAwake | null {
    return this.#inspection.whyAwakeNow(id);
  }

  /** The fields of a live object as its worker previews them; null when it is not live or does not answer. */
  fields(id: string): Promise<Record<string, string> | null> {
    return this.#inspection.fields(id);
  }

  /** Runs an Inspector statement on a live object's database in its worker; null when it has none now (inspect.ts). */
  adminSql(id: string, sql: string, params: unknown[]): Promise<QueryResult | null> {
    return this.#inspection.adminSql(id, sql, params);
  }

  /** Copies a live object's database to `dest` in its worker; false when it has none now (inspect.ts). */
  snapshotLive(id: string, dest: string): Promise<boolean> {
    return this.#inspection.snapshotLive(id, dest);
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

  // ---- sharding (sharding.ts) and live code updates (code-update.ts) ----

  setSharding(policies: Record<string, ShardingPolicyConfig>): void {
    this.#sharding.set(policies);
  }

  shardGroups(): ShardGroupView[] {
    return this.#sharding.groups();
  }

  /** Moves the project to new code (code-update.ts); updates run one after another. */
  updateCode(
    next: CodeVersion,
    cause = "code changed",
    opts: { probe?: UpdateProbe[] } = {},
  ): Promise<CodeUpdateResult> {
    return this.#updates.run(next, cause, opts.probe ?? []);
  }

  /** Makes `next` the current code: `entry` and new entry workers serve it, the pool starts over. */
  async #adopt(next: CodeVersion, entry: WorkerHost): Promise<void> {
    this.#code = next;
    this.#loadFailure.loaded();
    this.#namespaces = new Namespaces(next.spec.workerName, next.bindings);
    await this.#entries.replace(entry, next);
    this.#pool.renew();
  }
}
