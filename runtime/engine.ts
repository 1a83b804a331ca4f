import { basename, join, relative } from "node:path";
import { ProjectError } from "./config/errors.ts";
import { buildHostWorkers, bundleProject } from "./build/bundler.ts";
import { loadProject, type Project } from "./config/project.ts";
import { EventBus } from "./event-bus/event-bus.ts";
import type { CodeSpec } from "./host/protocol.ts";
import {
  defaultLifecycleOptions,
  LifecycleManager,
  type CodeVersion,
  type LifecycleOptions,
} from "./lifecycle/lifecycle.ts";
import { ServiceRegistry } from "./registry/registry.ts";
import * as Comlink from "comlink";
import { RequestRouter } from "./router/router.ts";
import { SocketHub } from "./router/sockets.ts";
import { systemClock, type Clock } from "./shared/clock.ts";
import { EngineEvents } from "./shared/events.ts";
import { idFromName } from "./shared/ids.ts";
import { StateManager } from "./state/state-manager.ts";
import { createControlApi } from "./api/control-api.ts";
import type { ControlApi } from "./api/contract.ts";

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
 * through `api`, and `close` it (in-flight work finishes, every worker ends,
 * every SQLite file is closed).
 */
export class Engine {
  readonly project: Project;
  readonly dataDir: string;
  readonly events: EngineEvents;
  readonly registry: ServiceRegistry;
  readonly state: StateManager;
  readonly lifecycle: LifecycleManager;
  readonly eventBus: EventBus;
  readonly router: RequestRouter;
  readonly api: ControlApi;
  #port: number | null = null;
  #closed = false;

  private constructor(parts: {
    project: Project;
    dataDir: string;
    events: EngineEvents;
    registry: ServiceRegistry;
    state: StateManager;
    lifecycle: LifecycleManager;
    eventBus: EventBus;
    router: RequestRouter;
  }) {
    this.project = parts.project;
    this.dataDir = parts.dataDir;
    this.events = parts.events;
    this.registry = parts.registry;
    this.state = parts.state;
    this.lifecycle = parts.lifecycle;
    this.eventBus = parts.eventBus;
    this.router = parts.router;
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
    const spec: CodeSpec = {
      bundlePath: bundle.path,
      workerName: w.name,
      compatibilityDate: w.compatibilityDate,
      compatibilityFlags: [...w.compatibilityFlags],
      durableObjects: w.durableObjects.map((b) => ({ binding: b.binding, className: b.className })),
      vars: { ...w.vars },
      eventBusBinding: project.eventBusBinding,
    };
    const code: CodeVersion = {
      spec,
      hostFile: hosts.objectWorker,
      entryFile: hosts.entryWorker,
      bindings: new Map(w.durableObjects.map((b) => [b.binding, b.className])),
    };
    const options: LifecycleOptions = { ...defaultLifecycleOptions(), ...opts.lifecycle };
    const tl = project.terrarium.lifecycle;
    if (tl?.idleAfterMs !== undefined) options.policy = { ...options.policy, idleAfterMs: tl.idleAfterMs };
    if (tl?.hibernateAfterMs !== undefined)
      options.policy = { ...options.policy, hibernateAfterMs: tl.hibernateAfterMs };
    if (tl?.maxLiveObjects !== undefined && opts.lifecycle?.maxLiveObjects === undefined)
      options.maxLiveObjects = tl.maxLiveObjects;
    for (const [className, c] of Object.entries(project.terrarium.classes ?? {})) {
      if (!c.lifecycle) continue;
      const policy: Partial<LifecycleOptions["policy"]> = {};
      if (c.lifecycle.idleAfterMs !== undefined) policy.idleAfterMs = c.lifecycle.idleAfterMs;
      if (c.lifecycle.hibernateAfterMs !== undefined) policy.hibernateAfterMs = c.lifecycle.hibernateAfterMs;
      options.classPolicies = { ...options.classPolicies, [className]: policy };
    }

    const events = new EngineEvents();
    const registry = ServiceRegistry.open(dataDir, clock);
    const state = new StateManager(dataDir, clock);
    const sockets = new SocketHub();
    const lifecycle = new LifecycleManager({ registry, state, clock, events, options, code, sockets });
    sockets.deliver = async (owner, e) => {
      const transfer = e.type === "message" && e.data instanceof ArrayBuffer ? [e.data] : [];
      if (owner.kind === "entry") {
        await owner.host.call((api) => api.wsEvent(Comlink.transfer(e, transfer)));
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
        (api) => api.wsEvent(Comlink.transfer(e, transfer)),
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
    const router = new RequestRouter(lifecycle, project.terrarium.routes ?? [], sockets);

    const classNames = new Map<string, string[]>();
    for (const b of w.durableObjects)
      classNames.set(b.className, [...(classNames.get(b.className) ?? []), b.binding]);
    registry.setClasses(
      [...classNames].map(([className, bindings]) => ({
        className,
        bindings,
        kind: project.terrarium.classes?.[className]?.kind ?? null,
        exported: true,
      })),
    );

    const engine = new Engine({ project, dataDir, events, registry, state, lifecycle, eventBus, router });
    try {
      await lifecycle.start();
      const exported = new Set(await lifecycle.exportedClasses());
      for (const [i, b] of w.durableObjects.entries()) {
        if (!exported.has(b.className)) {
          throw new ProjectError(
            `class ${b.className} is not exported by ${relative(project.dir, w.main)}; add \`export class ${b.className}\``,
            { file: basename(w.configPath), field: `durable_objects.bindings[${i}].class_name` },
          );
        }
      }
      state.startAlarms(async (a) => {
        return lifecycle.run(
          {
            className: a.className,
            id: a.objectId,
            name: null,
            kind: "alarm",
            cause: a.retryCount ? `alarm (retry ${a.retryCount})` : "alarm",
          },
          (api) => api.alarm({ retryCount: a.retryCount, isRetry: a.retryCount > 0 }),
        );
      });
      eventBus.start();
    } catch (e) {
      await engine.close();
      throw e;
    }
    return engine;
  }

  get url(): string | null {
    return this.#port === null ? null : `http://127.0.0.1:${this.#port}`;
  }

  async listen(port: number): Promise<number> {
    this.#port = await this.router.listen(port);
    return this.#port;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.lifecycle.sockets.closeAll();
    await this.router.close();
    await this.eventBus.close();
    await this.lifecycle.close();
    this.state.close();
    this.registry.close();
  }
}
