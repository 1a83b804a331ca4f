import { EmailOutbox } from "./bindings/email-outbox.ts";
import { basename, join, relative, sep } from "node:path";
import * as Comlink from "comlink";
import { ProjectError } from "./config/errors.ts";
import { buildHostWorkers, bundleProject } from "./build/bundler.ts";
import { loadProject, type Project, type ProjectOptions } from "./config/project.ts";
import { ProjectWorkers } from "./lifecycle/workers.ts";
import { EventBus } from "./event-bus/event-bus.ts";
import type { WorkerApi } from "./host/protocol.ts";
import {
  defaultLifecycleOptions,
  LifecycleManager,
  type LifecycleOptions,
  type LifecyclePolicy,
  type UpdateProbe,
} from "./lifecycle/lifecycle.ts";
import { ServiceRegistry } from "./registry/registry.ts";
import { RequestRouter } from "./router/router.ts";
import { SocketHub } from "./router/sockets.ts";
import { systemClock, type Clock } from "./shared/clock.ts";
import { EngineEvents, type UpdateResult } from "./shared/events.ts";
import { StateManager } from "./state/state-manager.ts";
import { UsageMeter } from "./state/usage-meter.ts";
import { TimeTravel } from "./lifecycle/time-travel.ts";
import { ClassHistory, type ClassSource } from "./lifecycle/class-history.ts";
import { markServing, type ServingMark } from "./state/serving.ts";
import { QueueBroker } from "./queues/broker.ts";
import { RateLimits } from "./bindings/ratelimit.ts";
import { DataPointLog } from "./bindings/analytics-engine.ts";
import { Workflows } from "./workflows/workflows.ts";
import { instantSpan, TraceLinks, TraceStore } from "./state/traces.ts";
import { traceBatch } from "./queues/trace-batch.ts";
import type { WorkflowRunResult } from "./bindings/workflow-calls.ts";
import { startAuxiliary, type AuxiliaryRun } from "./engine/auxiliary.ts";
import { assetRouting, classInfos, codeVersion, projectPolicies } from "./engine/code.ts";
import { ProjectChanges, type RollbackResult } from "./engine/reload.ts";
import { DEFAULT_GRACE_MS, type StopReport } from "./engine/stop.ts";
import { watchProject } from "./engine/watcher.ts";

export { RollbackRefused, type RollbackResult } from "./engine/reload.ts";
export { cutShortLine, DEFAULT_GRACE_MS, type StopReport } from "./engine/stop.ts";

/**
 * Live objects snapshotted before a code update moves them, the most recently
 * active first: each copy costs milliseconds, and an update with thousands of
 * live objects must not wait for all of them.
 */
const UPDATE_SNAPSHOTS_MAX = 100;

/**
 * A usage meter fed by the engine's events (requests, lifecycle
 * transitions); socket messages and SQL rows reach it through the socket
 * hub's delivery and the Lifecycle Manager's `rows`.
 */
function meterUsage(dataDir: string, clock: Clock, events: EngineEvents): UsageMeter {
  const usage = new UsageMeter(dataDir, () => clock.now());
  events.on("request", (r) => {
    if (r.objectId && r.className) usage.request(r.className);
  });
  events.on("transition", (t) => usage.transition(t.objectId, t.className, t.to, t.time));
  return usage;
}

/** Resolves when `p` settles or `ms` pass, whichever is first. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export interface EngineOptions extends ProjectOptions {
  projectDir: string;
  /** Defaults to <projectDir>/.terrarium. */
  dataDir?: string;
  clock?: Clock;
  lifecycle?: Partial<LifecycleOptions>;
  /**
   * Traces across objects (docs/traces.md): on unless `enabled` is false; `sample` of requests (default 1),
   * at most `perSecond` new traces a second (default 200; Infinity: every request).
   */
  traces?: { enabled?: boolean; maxTraces?: number; sample?: number; perSecond?: number };
  /** `/__scheduled?cron=..` runs the entry Worker's scheduled() as wrangler dev --test-scheduled does. */
  testScheduled?: boolean;
}

/**
 * One running project: the five orchestration components wired together.
 * Open it, optionally `listen` (the Request Router on 127.0.0.1), drive it
 * through the control API built on it (runtime/api), and `close` it (in-flight work gets a grace period, every
 * worker ends, every SQLite file is closed).
 */
export class Engine {
  readonly dataDir: string;
  readonly events: EngineEvents;
  readonly registry: ServiceRegistry;
  readonly state: StateManager;
  readonly lifecycle: LifecycleManager;
  readonly eventBus: EventBus;
  /** Queues: messages producers sent, delivered to the entry Worker's queue() handler. */
  readonly queues: QueueBroker;
  /** The project's Workflows: instances, their steps and events (runtime/workflows). */
  readonly workflows: Workflows;
  /** Data points the code wrote to Analytics Engine datasets (the last 2,000). */
  readonly dataPoints: DataPointLog;
  /** The rate limiters' counters (every Worker's). */
  readonly rateLimits: RateLimits;
  /** Messages the code sent through send_email bindings: captured in `<data>/email.sqlite`, never sent. */
  readonly outbox: EmailOutbox;
  readonly router: RequestRouter;
  /** The WebSockets of every object, held here so a hibernating object keeps its clients. */
  readonly sockets: SocketHub;
  /** What the objects used, per class, as Cloudflare bills it (the cost of a run). */
  readonly usage: UsageMeter;
  /** Snapshots, diffs, restores and resets of objects' storage. */
  readonly timeTravel: TimeTravel;
  /** Every version of every class's code, and which one each live object runs. */
  readonly history: ClassHistory;
  /** Traces across objects, kept in <data>/traces.sqlite (docs/traces.md). */
  readonly traces: TraceStore;
  #serving: ServingMark | null = null;
  #port: number | null = null;
  /** The project's other Workers (-c), each beside the first. */
  readonly #auxiliary: AuxiliaryRun[] = [];
  /** The project as it runs, and its reloads and changes (engine/reload.ts). */
  readonly #changes: ProjectChanges;
  #watcher: { close(): void } | null = null;

  private constructor(parts: {
    project: Project;
    dataDir: string;
    events: EngineEvents;
    registry: ServiceRegistry;
    state: StateManager;
    lifecycle: LifecycleManager;
    eventBus: EventBus;
    queues: QueueBroker;
    router: RequestRouter;
    sockets: SocketHub;
    workflows: Workflows;
    clock: Clock;
    usage: UsageMeter;
    dataPoints: DataPointLog;
    traces: TraceStore;
    workers: ProjectWorkers;
    loadOptions: ProjectOptions;
    basePolicy: LifecyclePolicy;
    baseClassPolicies: LifecycleOptions["classPolicies"];
    assetNotes: readonly string[];
    rateLimits: RateLimits;
    outbox: EmailOutbox;
  }) {
    this.dataDir = parts.dataDir;
    this.events = parts.events;
    this.registry = parts.registry;
    this.state = parts.state;
    this.lifecycle = parts.lifecycle;
    this.eventBus = parts.eventBus;
    this.queues = parts.queues;
    this.router = parts.router;
    this.sockets = parts.sockets;
    this.workflows = parts.workflows;
    this.timeTravel = new TimeTravel({
      dataDir: parts.dataDir,
      lifecycle: parts.lifecycle,
      state: parts.state,
      registry: parts.registry,
      clock: parts.clock,
    });
    this.history = new ClassHistory(parts.dataDir, parts.clock, parts.events);
    this.usage = parts.usage;
    this.dataPoints = parts.dataPoints;
    this.outbox = parts.outbox;
    this.traces = parts.traces;
    this.#changes = new ProjectChanges(parts.project, parts.assetNotes, {
      ...parts,
      history: this.history,
      auxiliary: this.#auxiliary,
    });
    this.rateLimits = parts.rateLimits;
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    const loadOptions: ProjectOptions = {
      env: opts.env ?? null,
      configs: opts.configs ?? [],
      vars: opts.vars ?? {},
    };
    const project = loadProject(opts.projectDir, loadOptions);
    const dataDir = opts.dataDir ?? join(project.dir, ".terrarium");
    const clock = opts.clock ?? systemClock;
    const [bundle, hosts] = await Promise.all([
      bundleProject(project.wrangler, join(dataDir, "build")),
      buildHostWorkers(),
    ]);
    const w = project.wrangler;
    const code = codeVersion(project, bundle, hosts, dataDir);
    const options: LifecycleOptions = { ...defaultLifecycleOptions(), ...opts.lifecycle };
    const basePolicy = options.policy;
    Object.assign(options, projectPolicies(project, basePolicy, options.classPolicies));
    const tl = project.terrarium.lifecycle;
    if (tl?.maxLiveObjects !== undefined && opts.lifecycle?.maxLiveObjects === undefined)
      options.maxLiveObjects = tl.maxLiveObjects;

    const events = new EngineEvents();
    const traces = new TraceStore(dataDir, opts.traces ?? {});
    const tracer = opts.traces?.enabled === false ? null : traces;
    const traceLinks = { events: new TraceLinks<number>(), messages: new TraceLinks<string>() };
    const registry = ServiceRegistry.open(dataDir, clock);
    const state = new StateManager(dataDir, clock);
    const usage = meterUsage(dataDir, clock, events);
    const rateLimits = new RateLimits(() => clock.now());
    const dataPoints = new DataPointLog();
    const outbox = new EmailOutbox(dataDir);
    const workers = new ProjectWorkers();
    const sockets: SocketHub = new SocketHub({
      now: () => clock.now(),
      deliver: async (owner, e, dispatched) => {
        if (e.type === "message" && owner.kind === "object") usage.wsMessage(owner.className);
        const transfer = e.type === "message" && e.data instanceof ArrayBuffer ? [e.data] : [];
        // Comlink posts the call at once: the worker gets events in the order of these calls.
        const send = (api: Comlink.Remote<WorkerApi>): Promise<void> => {
          const handled = api.wsEvent(Comlink.transfer(e, transfer));
          dispatched();
          return handled;
        };
        if (owner.kind === "entry") {
          await owner.host.call(send);
          return;
        }
        await lifecycle.run(
          {
            className: owner.className,
            id: owner.objectId,
            name: null,
            kind: "event",
            cause: `websocket ${e.type}`,
          },
          send,
        );
      },
      onError: (owner, message) =>
        events.emit("problem", {
          time: clock.now(),
          message,
          objectId: owner.kind === "object" ? owner.objectId : null,
        }),
    });
    const lifecycle: LifecycleManager = new LifecycleManager({
      registry,
      state,
      clock,
      events,
      options,
      code,
      sockets,
      tracer,
      publish: project.eventBusBinding
        ? async (topic, data, from, trace) => {
            const published = eventBus.publish(topic, data, from);
            // Set before the bus's first delivery (a microtask away): the deliveries hang under the publish.
            if (trace && tracer)
              traceLinks.events.set(
                published.id,
                instantSpan(tracer, trace, "publish", { name: `publish ${topic}` }),
              );
            return published;
          }
        : undefined,
      queueSend: async (queue, messages, trace) => {
        const sent =
          trace && tracer ? instantSpan(tracer, trace, "queue-send", { name: `send ${queue}` }) : null;
        return queues.send(queue, messages, sent ? (id) => traceLinks.messages.set(id, sent) : undefined);
      },
      workflow: (call) => workflows.handle(call),
      links: workers.linksOf(w.name),
      rows: (objectId, read, written) => {
        const rec = registry.get(objectId);
        if (rec) usage.rows(rec.className, read, written);
      },
      rateLimit: (binding, key, limit, period) => rateLimits.count(binding, key, limit, period),
      dataPoint: (point) => dataPoints.add(point),
      email: async (m) => void outbox.add(w.name, clock.now(), m),
      sharding: project.terrarium.sharding ?? {},
      beforeUpdate: async (objects) => {
        const recent = [...objects]
          .sort((a, b) => b.lastActive - a.lastActive)
          .slice(0, UPDATE_SNAPSHOTS_MAX);
        for (const rec of recent) await engine.timeTravel.snapshot(rec, "update", "before a code update");
      },
    });
    const eventBus = new EventBus({
      dataDir,
      clock,
      subscriptions: project.terrarium.subscriptions ?? [],
      deliver: async (d, event) => {
        const { className, id } = lifecycle.namespaces.byName(d.binding, d.objectName);
        await lifecycle.run(
          {
            className,
            id,
            name: d.objectName,
            kind: "event",
            cause: `event ${event.topic}`,
            // A delivery no traced request caused is a trace of its own.
            trace: tracer ? (traceLinks.events.get(event.id) ?? null) : undefined,
          },
          (api, trace) => api.rpc(d.method, [event], "call", trace),
        );
      },
    });
    // A queue consumed in another Worker (-c) goes to that Worker's entry (started before the broker).
    const consumerOf = (queue: string): LifecycleManager => {
      const worker = engine.project.allQueues.consumers.find((c) => c.queue === queue)?.worker;
      return engine.#auxiliary.find((a) => a.name === worker)?.lifecycle ?? lifecycle;
    };
    const queues = new QueueBroker({
      dataDir,
      clock,
      config: project.allQueues,
      deliver: (queue, messages, metrics) =>
        traceBatch(tracer, queue, messages, traceLinks.messages, (trace) =>
          consumerOf(queue).entryCall((api) =>
            api.queue(
              queue,
              Comlink.transfer(
                messages,
                messages.map((m) => m.body.buffer as ArrayBuffer),
              ),
              metrics,
              trace,
            ),
          ),
        ),
      log: (level, message) => {
        const entry = registry.recordLog({
          time: clock.now(),
          level,
          source: "queues",
          objectId: null,
          message,
        });
        events.emit("log", entry);
      },
    });
    const workflows = new Workflows({
      dataDir,
      clock,
      workflows: code.spec.workflows,
      runner: (spec) => lifecycle.entryCall((api) => api.workflowRun(spec) as Promise<WorkflowRunResult>),
    });
    const assets = assetRouting(project);
    const router = new RequestRouter(lifecycle, project.terrarium.routes ?? [], sockets, assets);
    router.testScheduled = opts.testScheduled === true;

    registry.setClasses(classInfos(project));

    const engine = new Engine({
      project,
      dataDir,
      events,
      registry,
      state,
      lifecycle,
      eventBus,
      router,
      sockets,
      queues,
      workflows,
      clock,
      usage,
      dataPoints,
      traces,
      workers,
      loadOptions,
      basePolicy,
      baseClassPolicies: opts.lifecycle?.classPolicies ?? {},
      assetNotes: assets?.notes ?? [],
      rateLimits,
      outbox,
    });
    try {
      await lifecycle.start();
      for (const aux of project.workers) {
        // Its producers send to the project's one broker, which delivers its consumers' queues to it.
        const run = await startAuxiliary(aux, {
          dataDir,
          clock,
          events,
          hosts,
          options,
          queueSend: async (queue, messages) => queues.send(queue, messages),
          workers,
          rateLimits,
          dataPoints,
          outbox,
          tracer,
          ai: project.terrarium.ai,
        });
        engine.#auxiliary.push(run);
      }
      workers.connect([
        { lifecycle, wrangler: w },
        ...engine.#auxiliary.map((a, i) => ({
          lifecycle: a.lifecycle,
          wrangler: project.workers[i]!.wrangler,
        })),
      ]);
      const classes = await lifecycle.exportedClasses();
      // Code that throws while loading is served anyway (each request fails with its error).
      const exported = new Set(classes ?? w.durableObjects.map((b) => b.className));
      for (const [i, b] of w.durableObjects.entries()) {
        if (!exported.has(b.className)) {
          throw new ProjectError(
            `class ${b.className} is not exported by ${relative(project.dir, w.main)}; add \`export class ${b.className}\``,
            { file: basename(w.configPath), field: `durable_objects.bindings[${i}].class_name` },
          );
        }
      }
      for (const [i, wf] of code.spec.workflows.entries()) {
        if (classes && !exported.has(wf.className)) {
          throw new ProjectError(
            `class ${wf.className} is not exported by ${relative(project.dir, w.main)}; add \`export class ${wf.className} extends WorkflowEntrypoint\``,
            { file: basename(w.configPath), field: `workflows[${i}].class_name` },
          );
        }
      }
      workflows.start();
      state.startAlarms(async (a) => {
        return lifecycle.run(
          {
            className: a.className,
            id: a.objectId,
            name: null,
            kind: "alarm",
            cause: a.retryCount ? `alarm (retry ${a.retryCount})` : "alarm",
            // An alarm is a trace of its own.
            trace: tracer ? null : undefined,
          },
          (api, trace) =>
            api.alarm({ retryCount: a.retryCount, isRetry: a.retryCount > 0, scheduledTime: a.time }, trace),
        );
      });
      eventBus.start();
      queues.start();
      engine.history.start(engine.classSources());
      engine.#serving = markServing(dataDir);
    } catch (e) {
      await engine.close();
      throw e;
    }
    return engine;
  }

  get project(): Project {
    return this.#changes.project;
  }

  /**
   * Re-reads the project and moves it to the new code (the Updating state).
   * Bad config or code is refused with the error (file:line where there is
   * one) and the running version keeps serving.
   */
  reload(
    opts: { cause?: string; probe?: UpdateProbe[]; versionCause?: "update" | "rollback" } = {},
  ): Promise<UpdateResult> {
    return this.#changes.reload(opts);
  }

  /**
   * Runs `fn` after any reload or project change under way, and before the
   * next one starts: project changes (class renames, settings) go through
   * here so that no two of them, or a file watcher's reload, interleave.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#changes.exclusive(fn);
  }

  /**
   * Writes a project source file and moves live objects to the new code,
   * answering with the update; a refused update puts the file back.
   */
  replaceSource(path: string, text: string): Promise<UpdateResult & { written: boolean }> {
    return this.#changes.replaceSource(path, text);
  }

  /** Each class's source as it is on disk: the file that declares `class <Name>`. */
  classSources(project?: Project): ClassSource[] {
    return this.#changes.classSources(project);
  }

  /** Rolls a class back to an earlier version of its code, through Updating (engine/reload.ts). */
  rollbackClass(className: string, hash: string): Promise<RollbackResult> {
    return this.#changes.rollbackClass(className, hash);
  }

  /**
   * Runs `fn` first when the engine closes, while the router and the
   * objects still answer, within the grace period (a load console's run
   * ends and is saved there).
   */
  onClosing(fn: () => Promise<void>): void {
    this.#onClosing.push(fn);
  }
  readonly #onClosing: (() => Promise<void>)[] = [];

  /**
   * During a load run, every `everyMs` snapshots the `objects` live objects
   * with the most requests (reason "load", labelled with the run and second).
   * Returns the function that stops it.
   */
  snapshotDuringLoad(runId: string, everyMs = 10_000, objects = 5): () => void {
    const started = Date.now();
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const second = Math.round((Date.now() - started) / 1000);
      const hottest = this.lifecycle
        .liveRecords()
        .sort((a, b) => b.requests - a.requests)
        .slice(0, objects);
      void (async () => {
        for (const rec of hottest) {
          await this.timeTravel.snapshot(rec, "load", `run ${runId} at ${second} s`).catch(() => {});
        }
      })().finally(() => (busy = false));
    }, everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** The idle and hibernation timeouts where terrarium.json sets none. */
  get defaultPolicy(): LifecyclePolicy {
    return { ...this.#changes.basePolicy };
  }

  /**
   * Watches the project's sources and config, and each other Worker's
   * folder (-c) outside it; a change triggers `reload`, which moves every
   * Worker whose code changed to its new code.
   */
  watch(): void {
    if (this.#watcher) return;
    const changed = (): void => void this.exclusive(() => this.reload());
    const own = this.project.dir;
    this.#watcher = watchProject(own, this.dataDir, changed);
    const others = [...new Set(this.project.workers.map((w) => w.dir))].filter(
      (d) => d !== own && !d.startsWith(own + sep),
    );
    this.#otherWatchers = others.map((d) => watchProject(d, this.dataDir, changed));
  }
  #otherWatchers: { close(): void }[] = [];

  /** What the user should know about how this project runs here (printed at start by the CLI). */
  get notes(): readonly string[] {
    return [
      ...this.project.wrangler.notes,
      ...this.project.workers.flatMap((w) => w.wrangler.notes),
      ...this.#changes.assetNotes,
    ];
  }

  /** The Workers running, the project's own first (`-c` adds more). */
  get workers(): readonly { name: string; configPath: string }[] {
    return [
      { name: this.project.wrangler.name, configPath: this.project.wrangler.configPath },
      ...this.#auxiliary.map((a) => ({ name: a.name, configPath: a.configPath })),
    ];
  }

  /**
   * The project's other Workers (-c) with their registries: their Durable
   * Objects live under `<data>/workers/<name>/`, apart from the project's own.
   */
  get otherWorkers(): readonly {
    name: string;
    configPath: string;
    dataDir: string;
    registry: ServiceRegistry;
    state: StateManager;
    lifecycle: LifecycleManager;
    workflows: Workflows;
    timeTravel: TimeTravel;
    events: EngineEvents;
  }[] {
    return this.#auxiliary.map((a) => ({
      name: a.name,
      configPath: a.configPath,
      dataDir: join(this.dataDir, "workers", a.name),
      registry: a.registry,
      state: a.state,
      lifecycle: a.lifecycle,
      workflows: a.workflows,
      timeTravel: a.timeTravel,
      events: a.events,
    }));
  }

  get url(): string | null {
    if (this.#port === null) return null;
    const host = this.#host.includes(":") ? `[${this.#host}]` : this.#host;
    return `http://${host}:${this.#port}`;
  }

  #host = "127.0.0.1";

  /** The Lifecycle Managers of every Worker the engine runs: the project's, then the others (-c). */
  lifecycles(): LifecycleManager[] {
    return [this.lifecycle, ...this.#auxiliary.map((a) => a.lifecycle)];
  }

  /**
   * Starts the Request Router on `host` (127.0.0.1 unless told: `--ip`), or
   * on a listening socket `handle` bound by a supervising process.
   */
  async listen(port: number, host = "127.0.0.1", handle?: object): Promise<number> {
    this.#port = await this.router.listen(port, host, handle);
    this.#host = host;
    return this.#port;
  }

  #closing: Promise<StopReport> | null = null;

  /**
   * Stops the project, in bounded time: the router stops accepting (new
   * requests on open connections get a 503), WebSockets are closed (1001),
   * and no alarm or Event Bus delivery starts. What is in flight gets
   * `graceMs` (default 5 s) to finish; then the requests still unanswered
   * are answered 503, every object still busy has its worker ended at once
   * (a spinning one too), the others close their SQLite files, and so does
   * the engine. Acknowledged writes are on disk. Resolves with what was cut
   * short; calling it again returns the same stop.
   */
  close(opts: { graceMs?: number } = {}): Promise<StopReport> {
    this.#closing ??= this.#close(opts.graceMs ?? DEFAULT_GRACE_MS);
    return this.#closing;
  }

  async #close(graceMs: number): Promise<StopReport> {
    const deadline = Date.now() + graceMs;
    const left = (): number => Math.max(0, deadline - Date.now());
    this.#watcher?.close();
    for (const w of this.#otherWatchers) w.close();
    this.router.stopAccepting();
    this.state.stopAlarms();
    const bus = this.eventBus.close(graceMs);
    this.queues.stop();
    const workflows = this.workflows.close();
    this.sockets.closeAll();
    await within(this.#changes.underWay ?? Promise.resolve(), left());
    // A console run ends (and is saved) while the router and objects still answer.
    await within(Promise.all(this.#onClosing.map((fn) => fn())), left());
    // Objects get their sockets' close events (webSocketClose) within the grace period.
    await within(this.sockets.drained(), left());
    while ((this.router.inFlight > 0 || this.lifecycle.busyObjects() > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // A batch in flight gets the grace period; one cut short is delivered again at the next start.
    await within(this.queues.drained(), left());
    this.queues.close();
    this.sockets.terminateAll();
    const why = `the ${graceMs} ms grace period ended`;
    const requests = await this.router.close(0, `Terrarium stopped before the request was answered (${why})`);
    const objects = await this.lifecycle.close(0, why);
    for (const a of this.#auxiliary) {
      a.state.stopAlarms();
      const closing = a.workflows.close();
      objects.push(...(await a.lifecycle.close(0, why)));
      await closing;
      a.state.close();
      a.registry.close();
    }
    await bus;
    await workflows;
    this.usage.close();
    this.outbox.close();
    this.traces.close();
    this.state.close();
    this.registry.close();
    this.#serving?.release();
    return { graceMs, requests, objects };
  }
}
