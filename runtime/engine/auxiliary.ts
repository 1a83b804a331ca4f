import { Workflows } from "../workflows/workflows.ts";
import type { WorkflowRunResult } from "../bindings/workflow-calls.ts";
import type { EmailOutbox } from "../bindings/email-outbox.ts";
import { basename, join } from "node:path";
import type { DataPointLog } from "../bindings/analytics-engine.ts";
import type { RateLimits } from "../bindings/ratelimit.ts";
import { bundleProject, type HostBundles } from "../build/bundler.ts";
import { ProjectError } from "../config/errors.ts";
import type { AuxiliaryWorker } from "../config/project.ts";
import type { GatewayApi } from "../host/protocol.ts";
import { LifecycleManager, type LifecycleOptions } from "../lifecycle/lifecycle.ts";
import type { ProjectWorkers } from "../lifecycle/workers.ts";
import { ServiceRegistry } from "../registry/registry.ts";
import { SocketHub } from "../router/sockets.ts";
import type { Clock } from "../shared/clock.ts";
import { EngineEvents } from "../shared/events.ts";
import { StateManager } from "../state/state-manager.ts";
import type { TraceStore } from "../state/traces.ts";
import { workerCode } from "./code.ts";
import { TimeTravel } from "../lifecycle/time-travel.ts";
import type { TerrariumConfig } from "../config/terrarium.ts";

/** Another Worker of the project (-c), run beside it: its own entry worker, registry and state. */
export interface AuxiliaryRun {
  readonly name: string;
  readonly configPath: string;
  readonly registry: ServiceRegistry;
  readonly state: StateManager;
  readonly lifecycle: LifecycleManager;
  /** Its own Workflows (its `workflows` block), on `<data>/workers/<name>/workflows.sqlite`. */
  readonly workflows: Workflows;
  /** Its objects' snapshots, restore and reset, kept under `<data>/workers/<name>/`. */
  readonly timeTravel: TimeTravel;
  /** Its own events (its objects' transitions); logs and problems are also passed on to the engine's. */
  readonly events: EngineEvents;
}

/**
 * Starts another Worker of the project: bundled, with an entry worker of
 * its own and its own registry and state under `<data>/workers/<name>`
 * (its KV, D1 and R2 stores are the project's, shared by id as under
 * wrangler dev). Its Durable Objects live there too (their alarms run, and
 * another Worker reaches them with `script_name`); its logs and problems
 * join the engine's; its objects' transitions stay on its own `events`
 * (the control API streams them tagged with the Worker).
 */
export async function startAuxiliary(
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
    /** The project's outbox: every Worker's send_email messages are kept in one place. */
    outbox: EmailOutbox;
    /** The project's Workers, which its service bindings lead to. */
    workers: ProjectWorkers;
    /** Where its objects' spans go, as the project's (docs/traces.md); null: nothing is traced. */
    tracer: TraceStore | null;
    /** The project's terrarium.json `ai` setting: its stand-in serves every Worker's `ai` binding. */
    ai: TerrariumConfig["ai"];
  },
): Promise<AuxiliaryRun> {
  const w = aux.wrangler;
  const bundle = await bundleProject(w, join(deps.dataDir, "build"));
  const code = workerCode(w, aux.devVars.values, null, bundle, deps.hosts, deps.dataDir, deps.ai);
  const dir = join(deps.dataDir, "workers", w.name);
  const registry = ServiceRegistry.open(dir, deps.clock);
  const state = new StateManager(dir, deps.clock);
  const events = new EngineEvents();
  const workflows: Workflows = new Workflows({
    dataDir: dir,
    clock: deps.clock,
    workflows: code.spec.workflows,
    runner: (spec) => lifecycle.entryCall((api) => api.workflowRun(spec) as Promise<WorkflowRunResult>),
  });
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
    tracer: deps.tracer,
    queueSend: deps.queueSend,
    links: deps.workers.linksOf(w.name),
    rateLimit: (binding, key, limit, period) => deps.rateLimits.count(binding, key, limit, period),
    dataPoint: (point) => deps.dataPoints.add(point),
    email: async (m) => void deps.outbox.add(w.name, deps.clock.now(), m),
    workflow: (call) => workflows.handle(call),
  });
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
    for (const [i, wf] of code.spec.workflows.entries()) {
      if (exported && !exported.includes(wf.className)) {
        throw new ProjectError(
          `class ${wf.className} is not exported by ${basename(w.main)}; add \`export class ${wf.className} extends WorkflowEntrypoint\``,
          { file: basename(w.configPath), field: `workflows[${i}].class_name` },
        );
      }
    }
    workflows.start();
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
    const closing = workflows.close();
    await lifecycle.close(0, "it failed to start");
    await closing;
    state.close();
    registry.close();
    throw e;
  }
  const timeTravel = new TimeTravel({ dataDir: dir, lifecycle, state, registry, clock: deps.clock });
  return {
    name: w.name,
    configPath: w.configPath,
    registry,
    state,
    lifecycle,
    workflows,
    timeTravel,
    events,
  };
}
