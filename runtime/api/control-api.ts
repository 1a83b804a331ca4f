import { workflowMethods } from "./workflows.ts";
import { statSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { ENV_TYPES_FILE, envTypes, workersTypes, writeEnvTypes } from "../design/env-types.ts";
import type { Engine } from "../engine.ts";
import type { LifecycleState } from "../shared/lifecycle-model.ts";
import type { ObjectRecord } from "../registry/registry.ts";
import type {
  ClassSummary,
  ControlApi,
  DesignInfo,
  LiveEvent,
  ObjectSummary,
  PolicyInfo,
} from "./contract.ts";
import type { Project } from "../config/project.ts";
import {
  codeSchemas,
  designSchemas,
  loadSchemas,
  projectFileSchemas,
  consoleSchemas,
  schemas,
  templateSchemas,
} from "./contract.ts";
import {
  findClassSources,
  listProjectFiles,
  readProjectFile,
  writeProjectFile,
} from "../config/project-files.ts";
import { RequestHistory } from "./request-history.ts";
import { SavedRequests } from "./saved-requests.ts";
import { errorResult, httpResult, readStreamed, serializedRequest } from "./http-result.ts";
import { objectTools } from "./object-tools.ts";
import { objectHome } from "./object-home.ts";
import { LoadConsole } from "../load/console.ts";
import { timeTools } from "./time-tools.ts";
import { traceTools } from "./trace-tools.ts";
import { awakeTools } from "./awake-tools.ts";
import { costTools } from "./cost-api.ts";
import { awakeBrief, type AwakeBrief } from "../lifecycle/why-awake.ts";
import { readLoadProfiles, saveLoadProfile } from "../load/profiles-file.ts";
import { applySettings, deleteClass, renameClass } from "../design/project-changes.ts";
import { addClassFromTemplate } from "../templates/add-class.ts";
import { listTemplates } from "../templates/templates.ts";
import { external } from "./external.ts";
import { emailMethods, queueMethods } from "./queues.ts";
import { bindingMethods } from "./bindings.ts";
import { maskedApi, secretValues } from "./secrets.ts";
import { workersMethods } from "./workers.ts";
import { REMOTE_ONLY_KINDS } from "../bindings/remote-only.ts";
import { remoteOnlyBindings } from "../bindings/stores.ts";
import { sendEmailBindings } from "../bindings/send-email.ts";

/** Timeouts as terrarium.json sets them, without the ones it leaves out. */
function policyInfo(
  p: { idleAfterMs?: number | undefined; hibernateAfterMs?: number | undefined } | undefined,
): PolicyInfo {
  const out: PolicyInfo = {};
  if (p?.idleAfterMs !== undefined) out.idleAfterMs = p.idleAfterMs;
  if (p?.hibernateAfterMs !== undefined) out.hibernateAfterMs = p.hibernateAfterMs;
  return out;
}

const apis = new WeakMap<Engine, ControlApi>();

/**
 * The control API over one engine: the renderer (through the preload or the
 * web bridge), the CLI and the tests all drive an engine through it. One
 * per engine, made on first use. Every argument is parsed with the
 * contract's schemas, so the same object is safe to hand to a bridge.
 */
/** The Design view's Workers: the project's own, its -c Workers, and any a service binding names that does not run. */
function designWorkers(p: Project): DesignInfo["workers"] {
  const rel = (abs: string): string => relative(p.dir, abs).split(sep).join("/");
  const services = (w: Project["wrangler"]) =>
    w.services.map((s) => ({ binding: s.binding, service: s.service, entrypoint: s.entrypoint }));
  const running = [p.wrangler, ...p.workers.map((w) => w.wrangler)];
  const out: DesignInfo["workers"] = running.map((w) => ({
    name: w.name,
    configFile: rel(w.configPath),
    running: true,
    services: services(w),
  }));
  const names = new Set(out.map((w) => w.name));
  for (const w of running)
    for (const s of w.services) {
      if (names.has(s.service)) continue;
      names.add(s.service);
      out.push({ name: s.service, configFile: null, running: false, services: [] });
    }
  return out;
}

export function controlApi(engine: Engine): ControlApi {
  let api = apis.get(engine);
  if (!api) {
    api = maskedApi(unmaskedControlApi(engine), () => secretValues(engine.project));
    apis.set(engine, api);
  }
  return api;
}

const unmasked = new WeakMap<Engine, ControlApi>();

/**
 * The same control API with the project's secrets left in clear in its
 * answers: for tests that check what the code answered, never for a
 * person's screen (see secrets.ts).
 */
export function unmaskedControlApi(engine: Engine): ControlApi {
  let api = unmasked.get(engine);
  if (!api) {
    api = createControlApi(engine);
    unmasked.set(engine, api);
  }
  return api;
}

function createControlApi(engine: Engine): ControlApi {
  const awakeOf = (id: string): AwakeBrief | null => {
    const w = engine.lifecycle.whyAwakeNow(id);
    return w ? awakeBrief(w) : null;
  };
  const summary = (r: ObjectRecord): ObjectSummary => ({
    id: r.id,
    className: r.className,
    name: r.name,
    state: r.state,
    inFlight: engine.lifecycle.inFlight(r.id),
    requests: r.requests,
    storageBytes: r.storageBytes,
    createdAt: r.createdAt,
    lastActive: r.lastActive,
    lastError: r.lastError,
    awake: awakeOf(r.id),
  });
  /** The other Worker (-c) that holds an object, when the project's own Worker does not. */
  const otherWorker = (id: string) =>
    engine.registry.get(id) ? undefined : engine.otherWorkers.find((w) => w.registry.get(id));
  const otherSummary = (w: (typeof engine.otherWorkers)[number], r: ObjectRecord): ObjectSummary => ({
    id: r.id,
    className: r.className,
    name: r.name,
    state: r.state,
    inFlight: w.lifecycle.inFlight(r.id),
    requests: r.requests,
    storageBytes: r.storageBytes,
    createdAt: r.createdAt,
    lastActive: r.lastActive,
    lastError: r.lastError,
    awake: null,
    worker: w.name,
  });
  /** An object of any running Worker, with the state manager that holds its storage. */
  const anyRecord = (id: string): { r: ObjectRecord; state: Engine["state"] } => {
    const oid = schemas.objectId.parse(id);
    const r = engine.registry.get(oid);
    if (r) return { r, state: engine.state };
    const w = otherWorker(oid);
    const o = w?.registry.get(oid);
    if (!w || !o) throw new Error(`no object with id ${id}`);
    return { r: o, state: w.state };
  };

  const history = new RequestHistory(engine.dataDir);
  const saved = new SavedRequests(engine.dataDir);
  const ext = external(engine);
  // Load runs started from the UI's console, against the engine's own router.
  const load = new LoadConsole(engine, () =>
    readLoadProfiles(engine.project.dir, engine.project.terrarium.loadProfiles ?? {}),
  );
  engine.onClosing(() => load.close());

  return {
    async project() {
      const p = engine.project;
      return {
        name: p.wrangler.name,
        dir: p.dir,
        dataDir: engine.dataDir,
        url: engine.url,
        compatibilityDate: p.wrangler.compatibilityDate,
        eventBusBinding: p.eventBusBinding,
        env: p.env,
        workers: engine.workers.map((w) => ({
          name: w.name,
          configFile: relative(p.dir, w.configPath).split(sep).join("/"),
        })),
      };
    },

    async listClasses() {
      const out = new Map<string, ClassSummary>();
      for (const c of engine.registry.classes()) {
        out.set(c.className, {
          className: c.className,
          bindings: c.bindings,
          kind: c.kind,
          objects: 0,
          live: 0,
          byState: {},
        });
      }
      for (const r of engine.registry.objects()) {
        const c = out.get(r.className);
        if (!c) continue;
        c.objects++;
        c.byState[r.state] = (c.byState[r.state] ?? 0) + 1;
        if (r.state !== "Hibernating" && r.state !== "Created") c.live++;
      }
      return [...out.values()];
    },

    async listObjects(q = {}) {
      const query = schemas.listObjects.parse(q);
      const search = query.search?.toLowerCase();
      const all: ObjectRecord[] = [];
      for (const r of engine.registry.objects()) {
        if (query.className && r.className !== query.className) continue;
        if (query.state && r.state !== (query.state as LifecycleState)) continue;
        if (search && !r.id.includes(search) && !(r.name ?? "").toLowerCase().includes(search)) continue;
        all.push(r);
      }
      all.sort((a, b) => b.lastActive - a.lastActive || a.id.localeCompare(b.id));
      const offset = query.offset ?? 0;
      const limit = query.limit ?? 1000;
      return { total: all.length, objects: all.slice(offset, offset + limit).map(summary) };
    },

    async getObject(id) {
      const oid = schemas.objectId.parse(id);
      const r = engine.registry.get(oid);
      if (r) return summary(r);
      const w = otherWorker(oid);
      const o = w?.registry.get(oid);
      return w && o ? otherSummary(w, o) : null;
    },

    async transitions(q = {}) {
      const p = schemas.page.parse(q);
      const registry = (p.objectId && otherWorker(p.objectId)?.registry) || engine.registry;
      return registry.transitions(p.objectId ?? null, {
        ...(p.limit !== undefined ? { limit: p.limit } : {}),
        ...(p.before !== undefined ? { before: p.before } : {}),
      });
    },

    async logs(q = {}) {
      const p = schemas.page.parse(q);
      const registry = (p.objectId && otherWorker(p.objectId)?.registry) || engine.registry;
      return registry.logs(p.objectId ?? null, {
        ...(p.limit !== undefined ? { limit: p.limit } : {}),
        ...(p.before !== undefined ? { before: p.before } : {}),
      });
    },

    async query(q) {
      const p = schemas.query.parse(q);
      const { r, state } = anyRecord(p.objectId);
      return state.readQuery(r.className, r.id, p.sql, p.params ?? [], {
        ...(p.limit !== undefined ? { limit: p.limit } : {}),
      });
    },

    async listKv(q) {
      const p = schemas.listKv.parse(q);
      const { r, state } = anyRecord(p.objectId);
      return state.listKv(r.className, r.id, {
        ...(p.prefix !== undefined ? { prefix: p.prefix } : {}),
        ...(p.startAfter !== undefined ? { startAfter: p.startAfter } : {}),
        ...(p.limit !== undefined ? { limit: p.limit } : {}),
      });
    },

    async alarms(objectId) {
      if (objectId === undefined) return engine.state.alarms();
      const oid = schemas.objectId.parse(objectId);
      return (otherWorker(oid)?.state ?? engine.state).alarms(oid);
    },

    async fireAlarm(objectId) {
      return engine.state.fireNow(schemas.objectId.parse(objectId));
    },

    async sendRequest(spec) {
      const r = schemas.sendRequest.parse(spec);
      const started = performance.now();
      try {
        const res = await engine.router.handle(serializedRequest(r, engine.url ?? "http://127.0.0.1"));
        return httpResult(await readStreamed(res), started);
      } catch (e) {
        return errorResult(e, started);
      }
    },

    async hibernate(objectId) {
      const home = objectHome(engine, objectId);
      return home.lifecycle.hibernate(home.r.id, "hibernated from the control API");
    },

    async terminate(objectId) {
      const home = objectHome(engine, objectId);
      return home.lifecycle.terminate(home.r.id, "terminated from the control API");
    },

    async topics() {
      return engine.eventBus.topics();
    },

    async recentEvents(q = {}) {
      return engine.eventBus.recent(q);
    },

    async deliveries(eventId) {
      return engine.eventBus.deliveries(eventId);
    },

    async design() {
      const p = engine.project;
      const w = p.wrangler;
      const t = p.terrarium;
      const classNames = [...new Set(w.durableObjects.map((b) => b.className))];
      const sources = findClassSources(p.dir, engine.dataDir, classNames);
      const objectCounts = new Map<string, number>();
      for (const r of engine.registry.objects())
        objectCounts.set(r.className, (objectCounts.get(r.className) ?? 0) + 1);
      const rel = (abs: string): string => relative(p.dir, abs).split(sep).join("/");
      const raw = w.raw as { d1_databases?: { binding: string; database_name?: string }[] } & {
        r2_buckets?: { binding: string; bucket_name?: string }[];
        kv_namespaces?: { binding: string; id?: string }[];
      };
      return {
        name: w.name,
        main: w.hasWorker ? rel(resolve(p.dir, w.main)) : null,
        configFile: rel(w.configPath),
        classes: classNames.map((className) => ({
          className,
          bindings: w.durableObjects.filter((b) => b.className === className).map((b) => b.binding),
          kind: t.classes?.[className]?.kind ?? null,
          notes: t.classes?.[className]?.notes ?? null,
          sourceFile: sources.get(className) ?? null,
          lifecycle: policyInfo(t.classes?.[className]?.lifecycle),
          objects: objectCounts.get(className) ?? 0,
        })),
        lifecycle: {
          ...(t.lifecycle?.idleAfterMs !== undefined ? { idleAfterMs: t.lifecycle.idleAfterMs } : {}),
          ...(t.lifecycle?.hibernateAfterMs !== undefined
            ? { hibernateAfterMs: t.lifecycle.hibernateAfterMs }
            : {}),
        },
        defaultLifecycle: engine.defaultPolicy,
        routes: (t.routes ?? []).map((r) => ({
          pattern: r.pattern,
          method: r.method === undefined ? null : Array.isArray(r.method) ? r.method : [r.method],
          binding: r.binding,
          object: r.object,
        })),
        subscriptions: (t.subscriptions ?? []).map((s) => ({
          topic: s.topic,
          binding: s.binding,
          object: s.object,
          method: s.method,
        })),
        external: [
          ...(raw.d1_databases ?? []).map((d) => ({
            kind: "d1" as const,
            binding: d.binding,
            detail: d.database_name ?? null,
          })),
          ...(raw.r2_buckets ?? []).map((b) => ({
            kind: "r2" as const,
            binding: b.binding,
            detail: b.bucket_name ?? null,
          })),
          ...(raw.kv_namespaces ?? []).map((k) => ({
            kind: "kv" as const,
            binding: k.binding,
            detail: k.id ?? null,
          })),
          ...p.queues.producers.map((q) => ({
            kind: "queue" as const,
            binding: q.binding,
            detail: q.queue,
          })),
          ...sendEmailBindings(raw).map((e) => ({
            kind: "email" as const,
            binding: e.binding,
            detail: `send_email: captured, not sent${e.destinationAddress ? ` (to ${e.destinationAddress})` : ""}`,
          })),
          ...remoteOnlyBindings(p).map((r) =>
            r.kind === "ai" && t.ai?.standIn
              ? {
                  kind: "ai-stand-in" as const,
                  binding: r.binding,
                  detail: "Workers AI: a local stand-in, not a model (deterministic text and embeddings)",
                }
              : {
                  kind: "remote" as const,
                  binding: r.binding,
                  detail: `${REMOTE_ONLY_KINDS[r.kind]} (Cloudflare only)`,
                },
          ),
          ...Object.keys(w.vars).map((name) => ({ kind: "vars" as const, binding: name, detail: null })),
          ...Object.keys(p.devVars.values)
            .filter((name) => !(name in w.vars))
            .map((name) => ({ kind: "vars" as const, binding: name, detail: "secret (.dev.vars)" })),
        ],
        eventBusBinding: p.eventBusBinding,
        env: p.env,
        workers: designWorkers(p),
        assets: w.assets
          ? {
              directory: `${rel(w.assets.directory) || "."}/`,
              binding: w.assets.binding,
              htmlHandling: w.assets.htmlHandling,
              notFoundHandling: w.assets.notFoundHandling,
              runWorkerFirst:
                typeof w.assets.runWorkerFirst === "boolean"
                  ? w.assets.runWorkerFirst
                  : [
                      ...w.assets.runWorkerFirst.worker,
                      ...w.assets.runWorkerFirst.assets.map((r) => `!${r}`),
                    ],
            }
          : null,
      };
    },

    async listFiles() {
      return listProjectFiles(engine.project.dir, engine.dataDir);
    },

    async readFile(path) {
      return readProjectFile(engine.project.dir, engine.dataDir, projectFileSchemas.path.parse(path));
    },

    async writeFile(file) {
      return writeProjectFile(engine.project.dir, engine.dataDir, projectFileSchemas.write.parse(file));
    },

    async editorTypes() {
      return { env: envTypes(engine.project), workers: workersTypes(engine.project.dir) };
    },

    async writeEnvTypes() {
      const file = writeEnvTypes(engine.project);
      return { path: ENV_TYPES_FILE, bytes: statSync(file).size };
    },

    async requestHistory() {
      return history.list();
    },

    async addRequestHistory(entry) {
      return history.add(consoleSchemas.historyEntry.parse(entry));
    },

    async clearRequestHistory() {
      history.clear();
    },

    async savedRequests() {
      return saved.list();
    },

    async saveRequest(spec) {
      const { name, request } = consoleSchemas.save.parse(spec);
      return saved.save(name, request);
    },

    async renameSavedRequest(spec) {
      const { id, name } = consoleSchemas.rename.parse(spec);
      return saved.rename(id, name);
    },

    async deleteSavedRequest(id) {
      return saved.delete(consoleSchemas.savedId.parse(id));
    },

    ...objectTools(engine),
    ...awakeTools(engine),
    ...costTools(engine, async (id) => load.get(loadSchemas.runId.parse(id))),

    ...timeTools(engine),
    ...traceTools(engine),

    async templates() {
      return listTemplates().map((t) => ({
        id: t.id,
        kind: t.kind,
        className: t.className,
        binding: t.binding,
        description: t.description,
        uses: t.uses,
        routes: t.routes ?? [],
        subscriptions: t.subscriptions ?? [],
        publishes: t.publishes ?? [],
      }));
    },

    async addClass(spec) {
      return addClassFromTemplate(engine.project.dir, templateSchemas.addClass.parse(spec));
    },

    async updateClassCode(spec) {
      const { className, code } = codeSchemas.updateClassCode.parse(spec);
      const p = engine.project;
      if (!p.wrangler.durableObjects.some((b) => b.className === className))
        throw new Error(`the project has no Durable Object class ${className}`);
      const path = findClassSources(p.dir, engine.dataDir, [className]).get(className);
      if (!path) throw new Error(`no source file of the project declares class ${className}`);
      return { path, ...(await engine.replaceSource(path, code)) };
    },

    async renameClass(spec) {
      const { from, to } = designSchemas.renameClass.parse(spec);
      return renameClass(engine, from, to);
    },

    async deleteClass(spec) {
      return deleteClass(engine, designSchemas.deleteClass.parse(spec).className);
    },

    async saveSettings(spec) {
      return applySettings(engine, designSchemas.saveSettings.parse(spec));
    },

    async listRuns() {
      return load.list();
    },

    async getRun(id) {
      return load.get(loadSchemas.runId.parse(id));
    },

    async startLoad(spec) {
      return load.start(loadSchemas.startLoad.parse(spec));
    },

    async stopLoad() {
      return load.stop();
    },

    async loadStatus(since) {
      return load.status(since === undefined ? 0 : loadSchemas.since.parse(since));
    },

    async loadProfiles() {
      return readLoadProfiles(engine.project.dir, engine.project.terrarium.loadProfiles ?? {});
    },

    async saveLoadProfile(spec) {
      const { name, profile } = loadSchemas.saveLoadProfile.parse(spec);
      return saveLoadProfile(engine.project.dir, name, profile);
    },

    ...ext.methods,
    ...queueMethods(engine),
    ...emailMethods(engine),
    ...workflowMethods(engine),
    ...bindingMethods(engine),
    ...workersMethods(engine),

    subscribe(listener) {
      let batch: LiveEvent[] = [];
      let timer: NodeJS.Timeout | null = null;
      const push = (e: LiveEvent): void => {
        batch.push(e);
        timer ??= setTimeout(() => {
          timer = null;
          const out = batch;
          batch = [];
          listener(out);
        }, 50);
      };
      const offs = [
        engine.events.on("transition", (data) => push({ type: "transition", data })),
        // Another Worker's objects (-c): their transitions, tagged with the Worker.
        ...engine.otherWorkers.map((w) =>
          w.events.on("transition", (data) =>
            push({ type: "transition", data: { ...data, worker: w.name } }),
          ),
        ),
        engine.events.on("log", (data) => push({ type: "log", data })),
        engine.events.on("request", (data) => push({ type: "request", data })),
        engine.events.on("problem", (data) => push({ type: "problem", data })),
        engine.events.on("update", (data) => push({ type: "update", data })),
        ext.onLive(push),
      ];
      return () => {
        for (const off of offs) off();
        if (timer) clearTimeout(timer);
      };
    },
  };
}
