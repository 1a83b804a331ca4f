import { readFileSync, renameSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { basename, join, relative } from "node:path";
import { ProjectError } from "./config/errors.ts";
import { buildHostWorkers, bundleProject, type Bundle, type HostBundles } from "./build/bundler.ts";
import { loadProject, type AuxiliaryWorker, type Project, type ProjectOptions } from "./config/project.ts";
import type { WranglerProject } from "./config/wrangler.ts";
import { connectWorkers } from "./lifecycle/workers.ts";
import { EventBus } from "./event-bus/event-bus.ts";
import { d1Stores, kvStores, r2Stores, remoteOnlyBindings } from "./bindings/stores.ts";
import type { CodeSpec, GatewayApi, WorkerApi } from "./host/protocol.ts";
import {
  defaultLifecycleOptions,
  LifecycleManager,
  type CodeVersion,
  type CutShort,
  type LifecycleOptions,
  type LifecyclePolicy,
  type UpdateProbe,
} from "./lifecycle/lifecycle.ts";
import { ServiceRegistry, type ClassInfo } from "./registry/registry.ts";
import * as Comlink from "comlink";
import { RequestRouter } from "./router/router.ts";
import { AssetRouting } from "./router/assets.ts";
import { assetsSpec } from "./assets/asset-server.ts";
import { SocketHub } from "./router/sockets.ts";
import { systemClock, type Clock } from "./shared/clock.ts";
import { EngineEvents } from "./shared/events.ts";
import { idFromName } from "./shared/ids.ts";
import { StateManager } from "./state/state-manager.ts";
import { UsageMeter } from "./state/usage-meter.ts";
import { findClassSources } from "./config/project-files.ts";
import { TimeTravel } from "./lifecycle/time-travel.ts";
import { ClassHistory, type ClassSource } from "./lifecycle/class-history.ts";
import { markServing, type ServingMark } from "./state/serving.ts";
import { QueueBroker } from "./queues/broker.ts";
import { queuesConfig } from "./config/queues.ts";
import { workflowBindings } from "./config/workflows.ts";
import { rateLimitBindings } from "./config/ratelimits.ts";
import { RateLimits } from "./bindings/ratelimit.ts";
import { analyticsDatasets, DataPointLog } from "./bindings/analytics-engine.ts";
import { versionMetadata, versionMetadataBinding } from "./bindings/version-metadata.ts";
import { Workflows } from "./workflows/workflows.ts";
import { instantSpan, TraceLinks, TraceStore } from "./state/traces.ts";
import { traceBatch } from "./queues/trace-batch.ts";
import type { WorkflowRunResult } from "./bindings/workflow-calls.ts";

/** `version_metadata`'s binding, as a value in env (runtime/bindings/version-metadata.ts). */
function versionVars(raw: Record<string, unknown>, bundlePath: string): Record<string, unknown> {
  const binding = versionMetadataBinding(raw);
  return binding ? { [binding]: versionMetadata(bundlePath) } : {};
}

/** One version of the project's code as the workers load it. */
function codeVersion(project: Project, bundle: Bundle, hosts: HostBundles, dataDir: string): CodeVersion {
  return workerCode(project.wrangler, project.devVars.values, project, bundle, hosts, dataDir);
}

/**
 * One version of a Worker's code: the project's own (`design` holds its
 * terrarium.json: Event Bus, mocks) or another of its Workers (-c).
 */
function workerCode(
  w: WranglerProject,
  secrets: Readonly<Record<string, string>>,
  design: Project | null,
  bundle: Bundle,
  hosts: HostBundles,
  dataDir: string,
  overrides: Readonly<Record<string, string>> = design?.varOverrides ?? {},
): CodeVersion {
  const stores = { wrangler: w };
  const spec: CodeSpec = {
    bundlePath: bundle.path,
    workerName: w.name,
    compatibilityDate: w.compatibilityDate,
    compatibilityFlags: [...w.compatibilityFlags],
    durableObjects: [
      ...w.durableObjects.map((b) => ({ binding: b.binding, className: b.className })),
      ...w.foreignDurableObjects.map((b) => ({
        binding: b.binding,
        className: b.className,
        scriptName: b.scriptName,
      })),
    ],
    vars: { ...w.vars, ...secrets, ...overrides, ...versionVars(w.raw, bundle.path) },
    eventBusBinding: design?.eventBusBinding ?? null,
    d1Databases: d1Stores(stores, dataDir).map((d) => ({ binding: d.binding, path: d.path })),
    r2Buckets: r2Stores(stores, dataDir).map((r) => ({ binding: r.binding, path: r.path })),
    kvNamespaces: kvStores(stores, dataDir).map((k) => ({ binding: k.binding, path: k.path })),
    queueProducers: queuesConfig(w).producers.map((p) => ({ ...p })),
    remoteOnly: remoteOnlyBindings(stores),
    workflows: workflowBindings(w),
    rateLimits: rateLimitBindings(w),
    analyticsEngine: analyticsDatasets(w.raw),
    mocks: (design?.terrarium.mocks ?? []).map((m) => ({ ...m })),
    assets:
      w.assets?.binding != null
        ? {
            binding: w.assets.binding,
            spec: assetsSpec(w.assets, w.compatibilityDate, w.compatibilityFlags),
          }
        : null,
    services: w.services.map((s) => ({ binding: s.binding })),
  };
  return {
    spec,
    hostFile: hosts.objectWorker,
    entryFile: hosts.entryWorker,
    bindings: new Map(w.durableObjects.map((b) => [b.binding, b.className])),
  };
}

/** Another Worker of the project (-c), run beside it: its own entry worker, registry and state. */
interface AuxiliaryRun {
  readonly name: string;
  readonly configPath: string;
  readonly registry: ServiceRegistry;
  readonly state: StateManager;
  readonly lifecycle: LifecycleManager;
}

/**
 * Starts another Worker of the project: bundled, with an entry worker of
 * its own and its own registry and state under `<data>/workers/<name>`
 * (its KV, D1 and R2 stores are the project's, shared by id as under
 * wrangler dev). Its Durable Objects live there too (their alarms run, and
 * another Worker reaches them with `script_name`); its logs and problems
 * join the engine's, its objects' transitions do not (the Inspector shows
 * the project's Worker's objects).
 */
async function startAuxiliary(
  aux: AuxiliaryWorker,
  deps: {
    dataDir: string;
    clock: Clock;
    events: EngineEvents;
    hosts: HostBundles;
    options: LifecycleOptions;
    /** The project's Queues broker: a Worker's producers send to the project's one broker. */
    queueSend: GatewayApi["queueSend"];
    /** The project's rate limiter counters and Analytics Engine log, shared by its Workers. */
    rateLimits: RateLimits;
    dataPoints: DataPointLog;
  },
): Promise<AuxiliaryRun> {
  const w = aux.wrangler;
  const bundle = await bundleProject(w, join(deps.dataDir, "build"));
  const code = workerCode(w, aux.devVars.values, null, bundle, deps.hosts, deps.dataDir);
  const dir = join(deps.dataDir, "workers", w.name);
  const registry = ServiceRegistry.open(dir, deps.clock);
  const state = new StateManager(dir, deps.clock);
  const events = new EngineEvents();
  events.on("log", (l) => deps.events.emit("log", { ...l, source: `${w.name}: ${l.source}` }));
  events.on("problem", (p) => deps.events.emit("problem", { ...p, message: `${w.name}: ${p.message}` }));
  const lifecycle = new LifecycleManager({
    registry,
    state,
    clock: deps.clock,
    events,
    options: { ...deps.options, poolSize: w.durableObjects.length > 0 ? 1 : 0, entryWorkers: 1 },
    code,
    sockets: new SocketHub({ now: () => deps.clock.now() }),
    queueSend: deps.queueSend,
  });
  lifecycle.rateLimit = (binding, key, limit, period) => deps.rateLimits.count(binding, key, limit, period);
  lifecycle.dataPoint = (point) => deps.dataPoints.add(point);
  registry.setClasses(
    w.durableObjects.map((b) => ({
      className: b.className,
      bindings: [b.binding],
      kind: null,
      exported: true,
    })),
  );
  try {
    await lifecycle.start();
    const exported = await lifecycle.exportedClasses();
    for (const [i, b] of w.durableObjects.entries()) {
      if (exported && !exported.includes(b.className)) {
        throw new ProjectError(
          `class ${b.className} is not exported by ${basename(w.main)}; add \`export class ${b.className}\``,
          { file: basename(w.configPath), field: `durable_objects.bindings[${i}].class_name` },
        );
      }
    }
    state.startAlarms((a) =>
      lifecycle.run(
        {
          className: a.className,
          id: a.objectId,
          name: null,
          kind: "alarm",
          cause: a.retryCount ? `alarm (retry ${a.retryCount})` : "alarm",
        },
        (api) => api.alarm({ retryCount: a.retryCount, isRetry: a.retryCount > 0, scheduledTime: a.time }),
      ),
    );
  } catch (e) {
    state.stopAlarms();
    await lifecycle.close(0, "it failed to start");
    state.close();
    registry.close();
    throw e;
  }
  return { name: w.name, configPath: w.configPath, registry, state, lifecycle };
}

function assetRouting(project: Project): AssetRouting | null {
  return project.wrangler.assets ? new AssetRouting(project.wrangler) : null;
}

/** The idle and hibernation timeouts: `base`, then terrarium.json's project-wide and per-class values. */
function projectPolicies(
  project: Project,
  base: LifecyclePolicy,
  baseClasses: LifecycleOptions["classPolicies"] = {},
): Pick<LifecycleOptions, "policy" | "classPolicies"> {
  const tl = project.terrarium.lifecycle;
  const policy = { ...base };
  if (tl?.idleAfterMs !== undefined) policy.idleAfterMs = tl.idleAfterMs;
  if (tl?.hibernateAfterMs !== undefined) policy.hibernateAfterMs = tl.hibernateAfterMs;
  const classPolicies = { ...baseClasses };
  for (const [className, c] of Object.entries(project.terrarium.classes ?? {})) {
    if (!c.lifecycle) continue;
    const p: Partial<LifecyclePolicy> = {};
    if (c.lifecycle.idleAfterMs !== undefined) p.idleAfterMs = c.lifecycle.idleAfterMs;
    if (c.lifecycle.hibernateAfterMs !== undefined) p.hibernateAfterMs = c.lifecycle.hibernateAfterMs;
    classPolicies[className] = { ...classPolicies[className], ...p };
  }
  return { policy, classPolicies };
}

function classInfos(project: Project): ClassInfo[] {
  const byClass = new Map<string, string[]>();
  for (const b of project.wrangler.durableObjects)
    byClass.set(b.className, [...(byClass.get(b.className) ?? []), b.binding]);
  return [...byClass].map(([className, bindings]) => ({
    className,
    bindings,
    kind: project.terrarium.classes?.[className]?.kind ?? null,
    exported: true,
  }));
}

export interface ReloadResult {
  ok: boolean;
  updated: number;
  error: string | null;
  /** Where a refused build or config points, when the error says (the editor marks it). */
  location?: { file: string; line: number; column: number } | null;
  time: number;
  durationMs: number;
}

/**
 * Live objects snapshotted before a code update moves them, the most recently
 * active first: each copy costs milliseconds, and an update with thousands of
 * live objects must not wait for all of them.
 */
const UPDATE_SNAPSHOTS_MAX = 100;

/** A rollback that did not happen: the version is unknown, moved, or its code was refused. */
export class RollbackRefused extends Error {
  override name = "RollbackRefused";
}

export interface RollbackResult {
  className: string;
  version: string;
  file: string;
  /** Live objects moved to the version. */
  updated: number;
}

/** Writes a file through a temporary one beside it, so a crash leaves one whole version or the other. */
function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.terrarium-${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function errorLocation(e: unknown): { file: string; line: number; column: number } | null {
  if (!(e instanceof ProjectError) || e.file === undefined || e.line === undefined) return null;
  return { file: e.file, line: e.line, column: e.column ?? 1 };
}

/** How long in-flight work gets to finish when the engine closes, unless told otherwise. */
export const DEFAULT_GRACE_MS = 5_000;

/** What a stop cut short when its grace period ended. */
export interface StopReport {
  graceMs: number;
  /** HTTP requests (and WebSocket upgrades) still unanswered: they were answered 503. */
  requests: number;
  /** Objects with events still in flight: their workers were ended. */
  objects: CutShort[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The one line saying what a stop cut short, or null when it cut nothing short. */
export function cutShortLine(r: StopReport): string | null {
  const parts: string[] = [];
  if (r.requests > 0) parts.push(plural(r.requests, "request"));
  if (r.objects.length > 0) {
    const named = r.objects.map(
      (o) =>
        `${o.className} ${o.name !== null ? JSON.stringify(o.name) : o.id.slice(0, 8)} (${plural(o.events, "event")})`,
    );
    parts.push(`${plural(r.objects.length, "object")}: ${named.join(", ")}`);
  }
  if (parts.length === 0) return null;
  return `terrarium: stopped after the ${r.graceMs} ms grace period, cutting short ${parts.join(" and ")}`;
}

/** A usage meter fed by the engine's events: requests, lifecycle transitions, socket messages, SQL rows. */
function meterUsage(
  dataDir: string,
  clock: Clock,
  events: EngineEvents,
  registry: ServiceRegistry,
  lifecycle: LifecycleManager,
): UsageMeter {
  const usage = new UsageMeter(dataDir, () => clock.now());
  events.on("request", (r) => {
    if (r.objectId && r.className) usage.request(r.className);
  });
  events.on("transition", (t) => usage.transition(t.objectId, t.className, t.to, t.time));
  lifecycle.onWsMessage = (className) => usage.wsMessage(className);
  lifecycle.onRows = (objectId, read, written) => {
    const rec = registry.get(objectId);
    if (rec) usage.rows(rec.className, read, written);
  };
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
}

/**
 * One running project: the five orchestration components wired together.
 * Open it, optionally `listen` (the Request Router on 127.0.0.1), drive it
 * through the control API built on it (runtime/api), and `close` it (in-flight work gets a grace period, every
 * worker ends, every SQLite file is closed).
 */
export class Engine {
  #project: Project;
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
  /** How the project was opened (--env, -c, --var): a reload reads it the same way. */
  #loadOptions: ProjectOptions = {};
  /** The project's other Workers (-c), each beside the first. */
  #auxiliary: AuxiliaryRun[] = [];
  /** The timeouts before terrarium.json's (options or defaults), so a reload can apply its new values. */
  #basePolicy: LifecyclePolicy = defaultLifecycleOptions().policy;
  #baseClassPolicies: LifecycleOptions["classPolicies"] = {};

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
    rateLimits: RateLimits;
  }) {
    this.#project = parts.project;
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
    parts.lifecycle.beforeUpdate = async (objects) => {
      const recent = [...objects].sort((a, b) => b.lastActive - a.lastActive).slice(0, UPDATE_SNAPSHOTS_MAX);
      for (const rec of recent) await this.timeTravel.snapshot(rec, "update", "before a code update");
    };
    this.usage = parts.usage;
    this.dataPoints = parts.dataPoints;
    this.traces = parts.traces;
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
    const sockets: SocketHub = new SocketHub({
      now: () => clock.now(),
      deliver: async (owner, e, dispatched) => {
        if (e.type === "message" && owner.kind === "object") lifecycle.onWsMessage?.(owner.className);
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
    });
    const eventBus = new EventBus({
      dataDir,
      clock,
      subscriptions: project.terrarium.subscriptions ?? [],
      deliver: async (d, event) => {
        const className = lifecycle.classForBinding(d.binding);
        const id = idFromName(lifecycle.nsKey(className), d.objectName);
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
    const queues = new QueueBroker({
      dataDir,
      clock,
      config: project.queues,
      deliver: (queue, messages, metrics) =>
        traceBatch(tracer, queue, messages, traceLinks.messages, (trace) =>
          lifecycle.entryCall((api) =>
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
    lifecycle.setSharding(project.terrarium.sharding ?? {});
    lifecycle.tracer = tracer;
    const workflows = new Workflows({
      dataDir,
      clock,
      workflows: code.spec.workflows,
      runner: (spec) => lifecycle.entryCall((api) => api.workflowRun(spec) as Promise<WorkflowRunResult>),
    });
    const rateLimits = new RateLimits(() => clock.now());
    const dataPoints = new DataPointLog();
    lifecycle.rateLimit = (binding, key, limit, period) => rateLimits.count(binding, key, limit, period);
    lifecycle.dataPoint = (point) => dataPoints.add(point);
    const router = new RequestRouter(lifecycle, project.terrarium.routes ?? [], sockets);
    const assets = assetRouting(project);
    router.setAssets(assets);

    registry.setClasses(classInfos(project));

    const usage = meterUsage(dataDir, clock, events, registry, lifecycle);
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
      rateLimits,
    });
    engine.#basePolicy = basePolicy;
    engine.#assetNotes = assets?.notes ?? [];
    engine.#baseClassPolicies = opts.lifecycle?.classPolicies ?? {};
    engine.#loadOptions = loadOptions;
    try {
      await lifecycle.start();
      for (const aux of project.workers) {
        // Its producers send to the project's one broker (consumers run in the project's Worker).
        const run = await startAuxiliary(aux, {
          dataDir,
          clock,
          events,
          hosts,
          options,
          queueSend: async (queue, messages) => queues.send(queue, messages),
          rateLimits,
          dataPoints,
        });
        run.lifecycle.tracer = tracer;
        engine.#auxiliary.push(run);
      }
      connectWorkers([
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
    return this.#project;
  }

  #watcher: FSWatcher | null = null;
  #reloadTimer: NodeJS.Timeout | null = null;
  /** The reload or project change under way, settled (never rejects). */
  #reloading: Promise<void> | null = null;

  /**
   * Re-reads the project and moves it to the new code (the Updating state).
   * Bad config or code is refused with the error (file:line where there is
   * one) and the running version keeps serving.
   */
  async reload(
    opts: { cause?: string; probe?: UpdateProbe[]; versionCause?: "update" | "rollback" } = {},
  ): Promise<ReloadResult> {
    const started = Date.now();
    const done = (r: Omit<ReloadResult, "time" | "durationMs">): ReloadResult => {
      const result = { ...r, time: started, durationMs: Date.now() - started };
      this.events.emit("update", result);
      return result;
    };
    let project: Project;
    let bundle: Bundle;
    let auxBundles: Bundle[];
    try {
      project = loadProject(this.#project.dir, this.#loadOptions);
      if (project.wrangler.name !== this.#project.wrangler.name) {
        return done({
          ok: false,
          updated: 0,
          error:
            "the worker name changed, and every object id derives from it: restart Terrarium to apply this change",
        });
      }
      bundle = await bundleProject(project.wrangler, join(this.dataDir, "build"));
      auxBundles = await Promise.all(
        project.workers.map((aw) => bundleProject(aw.wrangler, join(this.dataDir, "build"))),
      );
      if (
        project.workers.map((aw) => aw.wrangler.name).join() !== this.#auxiliary.map((a) => a.name).join()
      ) {
        return done({
          ok: false,
          updated: 0,
          error: "the project's Workers (-c) changed their names: restart Terrarium to apply this change",
        });
      }
    } catch (e) {
      return done({
        ok: false,
        updated: 0,
        error: e instanceof Error ? e.message : String(e),
        location: errorLocation(e),
      });
    }
    const next = codeVersion(project, bundle, await buildHostWorkers(), this.dataDir);
    const same = JSON.stringify(next.spec) === JSON.stringify(this.lifecycle.code.spec);
    let updated = 0;
    const sources = this.classSources(project);
    if (!same) {
      this.history.pending(sources);
      const r = await this.lifecycle.updateCode(next, opts.cause, opts.probe ? { probe: opts.probe } : {});
      if (!r.ok) {
        this.history.abandon();
        return done({ ok: false, updated: 0, error: r.error });
      }
      updated = r.updated;
    }
    const hosts = await buildHostWorkers();
    for (const [i, a] of this.#auxiliary.entries()) {
      const aw = project.workers[i]!;
      const code = workerCode(aw.wrangler, aw.devVars.values, null, auxBundles[i]!, hosts, this.dataDir);
      if (JSON.stringify(code.spec) === JSON.stringify(a.lifecycle.code.spec)) continue;
      const r = await a.lifecycle.updateCode(code);
      if (!r.ok) return done({ ok: false, updated, error: `${a.name}: ${r.error}` });
    }
    connectWorkers([
      { lifecycle: this.lifecycle, wrangler: project.wrangler },
      ...this.#auxiliary.map((a, i) => ({ lifecycle: a.lifecycle, wrangler: project.workers[i]!.wrangler })),
    ]);
    this.history.commit(sources, opts.versionCause ?? "update");
    this.#project = project;
    this.router.setRoutes(project.terrarium.routes ?? []);
    const assets = assetRouting(project);
    this.router.setAssets(assets);
    this.#assetNotes = assets?.notes ?? [];
    this.lifecycle.setSharding(project.terrarium.sharding ?? {});
    const policies = projectPolicies(project, this.#basePolicy, this.#baseClassPolicies);
    this.lifecycle.setPolicies(policies.policy, policies.classPolicies);
    this.eventBus.setSubscriptions(project.terrarium.subscriptions ?? []);
    this.queues.setConfig(project.queues);
    this.workflows.setWorkflows(next.spec.workflows);
    this.registry.setClasses(classInfos(project));
    // Code that still throws while loading is not a successful update, even if nothing else changed.
    const failure = this.lifecycle.loadFailure;
    return done({ ok: failure === null, updated, error: failure });
  }

  /**
   * Runs `fn` after any reload or project change under way, and before the
   * next one starts: project changes (class renames, settings) go through
   * here so that no two of them, or a file watcher's reload, interleave.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = (this.#reloading ?? Promise.resolve()).then(fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#reloading = settled;
    void settled.then(() => {
      if (this.#reloading === settled) this.#reloading = null;
    });
    return run;
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
   * Writes a project source file and moves live objects to the new code,
   * answering with the update. When the update is refused (a build error, a
   * constructor that throws) the file is put back as it was and the engine
   * reloads it, so the folder and what serves agree.
   */
  replaceSource(path: string, text: string): Promise<ReloadResult & { written: boolean }> {
    return this.exclusive(async () => {
      const abs = join(this.#project.dir, path);
      const before = readFileSync(abs, "utf8");
      writeFileSync(abs, text);
      const result = await this.reload();
      if (result.ok) return { ...result, written: true };
      writeFileSync(abs, before);
      await this.reload();
      return { ...result, written: false };
    });
  }

  /** Each class's source as it is on disk: the file that declares `class <Name>`. */
  classSources(project: Project = this.#project): ClassSource[] {
    const names = [...new Set(project.wrangler.durableObjects.map((b) => b.className))];
    const out: ClassSource[] = [];
    for (const [className, file] of findClassSources(project.dir, this.dataDir, names)) {
      try {
        out.push({ className, file, text: readFileSync(join(project.dir, file), "utf8") });
      } catch {
        // deleted since it was found: the next reload sees it gone
      }
    }
    return out;
  }

  /**
   * Rolls a class back to an earlier version of its code: the file that
   * declares it gets that version's text, and the engine moves to it as
   * for a saved change (live objects go Updating). The version's
   * constructor is first tried on a copy of the storage of the class's
   * most recently active object, live or not; if it throws (or the code
   * does not build), the file is put back and the rollback refused.
   */
  rollbackClass(className: string, hash: string): Promise<RollbackResult> {
    return this.exclusive(async () => {
      const version = this.history.versions.history(className).find((v) => v.hash === hash);
      if (!version) throw new RollbackRefused(`class ${className} has no version ${hash.slice(0, 8)}`);
      const source = this.classSources().find((s) => s.className === className);
      if (!source) throw new RollbackRefused(`no file of the project declares class ${className}`);
      if (source.file !== version.file) {
        throw new RollbackRefused(
          `version ${hash.slice(0, 8)} of ${className} is ${version.file}, but the class is in ${source.file} now`,
        );
      }
      const text = this.history.versions.text(hash);
      if (text === source.text) return { className, version: hash, updated: 0, file: source.file };
      const path = join(this.#project.dir, source.file);
      writeFileAtomic(path, text);
      const probe = [...this.registry.objects()]
        .filter((r) => r.className === className && this.state.storageBytes(r.className, r.id) > 0)
        .sort((a, b) => b.lastActive - a.lastActive)
        .slice(0, 1)
        .map((r) => ({ className: r.className, id: r.id, name: r.name }));
      const r = await this.reload({
        cause: `rolled back ${className} to ${hash.slice(0, 8)}`,
        probe,
        versionCause: "rollback",
      });
      if (!r.ok) {
        writeFileAtomic(path, source.text);
        throw new RollbackRefused(
          `rolling ${className} back to ${hash.slice(0, 8)} was refused, and ${source.file} is as it was: ${r.error}`,
        );
      }
      return { className, version: hash, updated: r.updated, file: source.file };
    });
  }

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
    return { ...this.#basePolicy };
  }

  /** Watches the project's sources and config; a change triggers `reload`. */
  watch(): void {
    if (this.#watcher) return;
    const dir = this.#project.dir;
    const dataDir = this.dataDir;
    this.#watcher = watch(dir, { recursive: true }, (_event, file) => {
      if (!file) return;
      const abs = join(dir, file.toString());
      if (
        abs.startsWith(dataDir) ||
        /(^|[/\\])(node_modules|\.git|\.terrarium)([/\\]|$)/.test(file.toString())
      )
        return;
      if (this.#reloadTimer) clearTimeout(this.#reloadTimer);
      this.#reloadTimer = setTimeout(() => {
        this.#reloadTimer = null;
        void this.exclusive(() => this.reload());
      }, 150);
    });
  }

  /** What the user should know about how this project runs here (printed at start by the CLI). */
  get notes(): readonly string[] {
    return [
      ...this.#project.wrangler.notes,
      ...this.#project.workers.flatMap((w) => w.wrangler.notes),
      ...this.#assetNotes,
    ];
  }

  /** The Workers running, the project's own first (`-c` adds more). */
  get workers(): readonly { name: string; configPath: string }[] {
    return [
      { name: this.#project.wrangler.name, configPath: this.#project.wrangler.configPath },
      ...this.#auxiliary.map((a) => ({ name: a.name, configPath: a.configPath })),
    ];
  }
  #assetNotes: readonly string[] = [];

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
  }[] {
    return this.#auxiliary.map((a) => ({
      name: a.name,
      configPath: a.configPath,
      dataDir: join(this.dataDir, "workers", a.name),
      registry: a.registry,
      state: a.state,
      lifecycle: a.lifecycle,
    }));
  }

  get url(): string | null {
    if (this.#port === null) return null;
    const host = this.#host.includes(":") ? `[${this.#host}]` : this.#host;
    return `http://${host}:${this.#port}`;
  }

  #host = "127.0.0.1";

  /** Starts the Request Router on `host` (127.0.0.1 unless told: `--ip`). */
  async listen(port: number, host = "127.0.0.1"): Promise<number> {
    this.#port = await this.router.listen(port, host);
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
    if (this.#reloadTimer) clearTimeout(this.#reloadTimer);
    this.router.stopAccepting();
    this.state.stopAlarms();
    const bus = this.eventBus.close(graceMs);
    this.queues.stop();
    const workflows = this.workflows.close();
    this.sockets.closeAll();
    await within(this.#reloading ?? Promise.resolve(), left());
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
      objects.push(...(await a.lifecycle.close(0, why)));
      a.state.close();
      a.registry.close();
    }
    await bus;
    await workflows;
    this.usage.close();
    this.traces.close();
    this.state.close();
    this.registry.close();
    this.#serving?.release();
    return { graceMs, requests, objects };
  }
}
