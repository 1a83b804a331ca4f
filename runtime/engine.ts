import { watch, type FSWatcher } from "node:fs";
import { basename, join, relative } from "node:path";
import { ProjectError } from "./config/errors.ts";
import { buildHostWorkers, bundleProject, type Bundle, type HostBundles } from "./build/bundler.ts";
import { loadProject, type Project } from "./config/project.ts";
import { EventBus } from "./event-bus/event-bus.ts";
import { d1Stores, kvStores, r2Stores, remoteOnlyBindings } from "./bindings/stores.ts";
import type { CodeSpec, WorkerApi } from "./host/protocol.ts";
import {
  defaultLifecycleOptions,
  LifecycleManager,
  type CodeVersion,
  type CutShort,
  type LifecycleOptions,
  type LifecyclePolicy,
} from "./lifecycle/lifecycle.ts";
import { ServiceRegistry, type ClassInfo } from "./registry/registry.ts";
import * as Comlink from "comlink";
import { RequestRouter } from "./router/router.ts";
import { AssetRouting } from "./router/assets.ts";
import { assetsSpec } from "./assets/asset-server.ts";
import { SocketHub } from "./router/sockets.ts";
import { systemClock, type Clock } from "./shared/clock.ts";
import { EngineEvents } from "./shared/events.ts";
import { idFromName, namespaceKey, rekeyId } from "./shared/ids.ts";
import { deleteClassFiles, renameClassFiles, type ClassChangeResult } from "./design/class-changes.ts";
import { saveSettings, type SettingsEdit } from "./design/settings.ts";
import { StateManager } from "./state/state-manager.ts";
import { createControlApi } from "./api/control-api.ts";
import { LoadConsole } from "./load/console.ts";
import { readLoadProfiles } from "./load/profiles-file.ts";
import type { ControlApi } from "./api/contract.ts";
import { workflowBindings } from "./config/workflows.ts";
import { rateLimitBindings } from "./config/ratelimits.ts";
import { RateLimits } from "./bindings/ratelimit.ts";
import { analyticsDatasets, DataPointLog } from "./bindings/analytics-engine.ts";
import { versionMetadata, versionMetadataBinding } from "./bindings/version-metadata.ts";
import { Workflows } from "./workflows/workflows.ts";
import type { WorkflowRunResult } from "./bindings/workflow-calls.ts";

/** `version_metadata`'s binding, as a value in env (runtime/bindings/version-metadata.ts). */
function versionVars(raw: Record<string, unknown>, bundlePath: string): Record<string, unknown> {
  const binding = versionMetadataBinding(raw);
  return binding ? { [binding]: versionMetadata(bundlePath) } : {};
}

/** One version of the project's code as the workers load it. */
function codeVersion(project: Project, bundle: Bundle, hosts: HostBundles, dataDir: string): CodeVersion {
  const w = project.wrangler;
  const spec: CodeSpec = {
    bundlePath: bundle.path,
    workerName: w.name,
    compatibilityDate: w.compatibilityDate,
    compatibilityFlags: [...w.compatibilityFlags],
    durableObjects: w.durableObjects.map((b) => ({ binding: b.binding, className: b.className })),
    vars: { ...w.vars, ...project.devVars.values, ...versionVars(w.raw, bundle.path) },
    eventBusBinding: project.eventBusBinding,
    d1Databases: d1Stores(project, dataDir).map((d) => ({ binding: d.binding, path: d.path })),
    r2Buckets: r2Stores(project, dataDir).map((r) => ({ binding: r.binding, path: r.path })),
    kvNamespaces: kvStores(project, dataDir).map((k) => ({ binding: k.binding, path: k.path })),
    remoteOnly: remoteOnlyBindings(project),
    workflows: workflowBindings(w),
    rateLimits: rateLimitBindings(w),
    analyticsEngine: analyticsDatasets(w.raw),
    mocks: (project.terrarium.mocks ?? []).map((m) => ({ ...m })),
    assets:
      w.assets?.binding != null
        ? {
            binding: w.assets.binding,
            spec: assetsSpec(w.assets, w.compatibilityDate, w.compatibilityFlags),
          }
        : null,
  };
  return {
    spec,
    hostFile: hosts.objectWorker,
    entryFile: hosts.entryWorker,
    bindings: new Map(w.durableObjects.map((b) => [b.binding, b.className])),
  };
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
  time: number;
  durationMs: number;
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

/** Resolves when `p` settles or `ms` pass, whichever is first. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export interface EngineOptions {
  projectDir: string;
  /** Defaults to <projectDir>/.terrarium. */
  dataDir?: string;
  clock?: Clock;
  lifecycle?: Partial<LifecycleOptions>;
}

/**
 * One running project: the five orchestration components wired together.
 * Open it, optionally `listen` (the Request Router on 127.0.0.1), drive it
 * through `api`, and `close` it (in-flight work gets a grace period, every
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
  /** The project's Workflows: instances, their steps and events (runtime/workflows). */
  readonly workflows: Workflows;
  /** Data points the code wrote to Analytics Engine datasets (the last 2,000). */
  readonly dataPoints: DataPointLog;
  readonly router: RequestRouter;
  /** Load runs started through the control API (the UI's console). */
  readonly load: LoadConsole;
  readonly api: ControlApi;
  #port: number | null = null;
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
    router: RequestRouter;
    workflows: Workflows;
    dataPoints: DataPointLog;
  }) {
    this.#project = parts.project;
    this.dataDir = parts.dataDir;
    this.events = parts.events;
    this.registry = parts.registry;
    this.state = parts.state;
    this.lifecycle = parts.lifecycle;
    this.eventBus = parts.eventBus;
    this.router = parts.router;
    this.workflows = parts.workflows;
    this.dataPoints = parts.dataPoints;
    this.load = new LoadConsole(this, () =>
      readLoadProfiles(this.#project.dir, this.#project.terrarium.loadProfiles ?? {}),
    );
    this.api = createControlApi(this);
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    const project = loadProject(opts.projectDir);
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
    const registry = ServiceRegistry.open(dataDir, clock);
    const state = new StateManager(dataDir, clock);
    const sockets = new SocketHub(() => clock.now());
    const lifecycle = new LifecycleManager({ registry, state, clock, events, options, code, sockets });
    sockets.deliver = async (owner, e, dispatched) => {
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
    };
    sockets.onError = (owner, message) =>
      events.emit("problem", {
        time: clock.now(),
        message,
        objectId: owner.kind === "object" ? owner.objectId : null,
      });
    const eventBus = new EventBus({
      dataDir,
      clock,
      subscriptions: project.terrarium.subscriptions ?? [],
      deliver: async (d, event) => {
        const className = lifecycle.classForBinding(d.binding);
        const id = idFromName(lifecycle.nsKey(className), d.objectName);
        await lifecycle.run(
          { className, id, name: d.objectName, kind: "event", cause: `event ${event.topic}` },
          (api) => api.rpc(d.method, [event]),
        );
      },
    });
    if (project.eventBusBinding) {
      lifecycle.publish = async (topic, data, from) => eventBus.publish(topic, data, from);
    }
    lifecycle.setSharding(project.terrarium.sharding ?? {});
    const workflows = new Workflows({
      dataDir,
      clock,
      workflows: code.spec.workflows,
      runner: (spec) => lifecycle.onEntry((api) => api.workflowRun(spec) as Promise<WorkflowRunResult>),
    });
    lifecycle.workflow = (call) => workflows.handle(call);
    const rateLimits = new RateLimits(() => clock.now());
    const dataPoints = new DataPointLog();
    lifecycle.rateLimit = (binding, key, limit, period) => rateLimits.count(binding, key, limit, period);
    lifecycle.dataPoint = (point) => dataPoints.add(point);
    const router = new RequestRouter(lifecycle, project.terrarium.routes ?? [], sockets);
    const assets = assetRouting(project);
    router.setAssets(assets);

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
      workflows,
      dataPoints,
    });
    engine.#basePolicy = basePolicy;
    engine.#assetNotes = assets?.notes ?? [];
    engine.#baseClassPolicies = opts.lifecycle?.classPolicies ?? {};
    try {
      await lifecycle.start();
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
          },
          (api) => api.alarm({ retryCount: a.retryCount, isRetry: a.retryCount > 0, scheduledTime: a.time }),
        );
      });
      eventBus.start();
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
  async reload(): Promise<ReloadResult> {
    const started = Date.now();
    const done = (r: Omit<ReloadResult, "time" | "durationMs">): ReloadResult => {
      const result = { ...r, time: started, durationMs: Date.now() - started };
      this.events.emit("update", result);
      return result;
    };
    let project: Project;
    let bundle: Bundle;
    try {
      project = loadProject(this.#project.dir);
      if (project.wrangler.name !== this.#project.wrangler.name) {
        return done({
          ok: false,
          updated: 0,
          error:
            "the worker name changed, and every object id derives from it: restart Terrarium to apply this change",
        });
      }
      bundle = await bundleProject(project.wrangler, join(this.dataDir, "build"));
    } catch (e) {
      return done({ ok: false, updated: 0, error: e instanceof Error ? e.message : String(e) });
    }
    const next = codeVersion(project, bundle, await buildHostWorkers(), this.dataDir);
    const same = JSON.stringify(next.spec) === JSON.stringify(this.lifecycle.code.spec);
    let updated = 0;
    if (!same) {
      const r = await this.lifecycle.updateCode(next);
      if (!r.ok) return done({ ok: false, updated: 0, error: r.error });
      updated = r.updated;
    }
    this.#project = project;
    this.router.setRoutes(project.terrarium.routes ?? []);
    const assets = assetRouting(project);
    this.router.setAssets(assets);
    this.#assetNotes = assets?.notes ?? [];
    this.lifecycle.setSharding(project.terrarium.sharding ?? {});
    const policies = projectPolicies(project, this.#basePolicy, this.#baseClassPolicies);
    this.lifecycle.setPolicies(policies.policy, policies.classPolicies);
    this.eventBus.setSubscriptions(project.terrarium.subscriptions ?? []);
    this.workflows.setWorkflows(next.spec.workflows);
    this.registry.setClasses(classInfos(project));
    // Code that still throws while loading is not a successful update, even if nothing else changed.
    const failure = this.lifecycle.loadFailure;
    return done({ ok: failure === null, updated, error: failure });
  }

  /** Runs `fn` after any reload or project change under way, and before the next one starts. */
  #serialized<T>(fn: () => Promise<T>): Promise<T> {
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
   * Renames a Durable Object class, files and data: the project's files as
   * renameClassFiles changes them, and every object of the class moves to
   * the new one with its storage, alarm, transitions and logs, as
   * Cloudflare's renamed_classes migration keeps a class's objects. Ids
   * derive from the class name (as in workerd), so an object created by
   * name gets the id its name has under the new class and keeps being found
   * by it; one made with newUniqueId keeps the first half of its id.
   */
  renameClass(from: string, to: string): Promise<ClassChangeResult & { objects: number }> {
    return this.#serialized(async () => {
      const reopen = await this.lifecycle.closeClass(from, `class ${from} is being renamed to ${to}; retry`);
      try {
        const result = renameClassFiles(this.#project.dir, this.dataDir, from, to);
        const ns = namespaceKey(this.#project.wrangler.name, to);
        const objects = [...this.registry.objects()].filter((r) => r.className === from);
        for (const rec of objects) {
          const oldId = rec.id;
          const newId = rec.name !== null ? idFromName(ns, rec.name) : rekeyId(ns, oldId);
          this.state.move(from, oldId, to, newId);
          this.registry.rekey(oldId, newId, to);
        }
        const reload = await this.reload();
        if (!reload.ok) result.notes.push(`the engine did not take the new code: ${reload.error}`);
        return { ...result, objects: objects.length };
      } finally {
        reopen();
      }
    });
  }

  /**
   * Deletes a Durable Object class: the project's files as deleteClassFiles
   * changes them, and every object of the class is terminated with its
   * storage, as Cloudflare's deleted_classes migration deletes them.
   */
  deleteClass(className: string): Promise<ClassChangeResult & { objects: number }> {
    return this.#serialized(async () => {
      const reopen = await this.lifecycle.closeClass(className, `class ${className} is being deleted`);
      try {
        const result = deleteClassFiles(this.#project.dir, this.dataDir, className);
        const objects = [...this.registry.objects()].filter((r) => r.className === className);
        for (const rec of objects) await this.lifecycle.terminate(rec.id, `class ${className} was deleted`);
        const reload = await this.reload();
        if (!reload.ok) result.notes.push(`the engine did not take the new code: ${reload.error}`);
        return { ...result, objects: objects.length };
      } finally {
        reopen();
      }
    });
  }

  /** Saves the Design panel's edit to terrarium.json and applies it (routes, subscriptions, timeouts) at once. */
  saveSettings(edit: SettingsEdit): Promise<{ files: string[] }> {
    return this.#serialized(async () => {
      const result = saveSettings(this.#project.dir, edit);
      const reload = await this.reload();
      if (!reload.ok) throw new ProjectError(reload.error ?? "the engine did not take the change");
      return result;
    });
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
        void this.#serialized(() => this.reload());
      }, 150);
    });
  }

  /** What the user should know about how this project runs here (printed at start by the CLI). */
  get notes(): readonly string[] {
    return this.#assetNotes;
  }
  #assetNotes: readonly string[] = [];

  get url(): string | null {
    return this.#port === null ? null : `http://127.0.0.1:${this.#port}`;
  }

  async listen(port: number): Promise<number> {
    this.#port = await this.router.listen(port);
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
    const workflows = this.workflows.close();
    this.lifecycle.sockets.closeAll();
    await within(this.#reloading ?? Promise.resolve(), left());
    // A console run ends (and is saved) while the router and objects still answer.
    await within(this.load.close(), left());
    // Objects get their sockets' close events (webSocketClose) within the grace period.
    await within(this.lifecycle.sockets.drained(), left());
    while ((this.router.inFlight > 0 || this.lifecycle.busyObjects() > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.lifecycle.sockets.terminateAll();
    const why = `the ${graceMs} ms grace period ended`;
    const requests = await this.router.close(0, `Terrarium stopped before the request was answered (${why})`);
    const objects = await this.lifecycle.close(0, why);
    await bus;
    await workflows;
    this.state.close();
    this.registry.close();
    return { graceMs, requests, objects };
  }
}
