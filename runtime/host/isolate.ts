import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import Database from "better-sqlite3";
import * as Comlink from "comlink";
import { cachedRemote, installErrorTransfer, nodeEndpoint } from "../shared/comlink-node.ts";
import { bodyTransfer, deserializeRequest, serializeResponse } from "./http-serialize.ts";
import { DurableObjectNamespace } from "./namespace.ts";
import type {
  AlarmInvocation,
  CodeSpec,
  GatewayApi,
  LogLevel,
  LogRecord,
  ObjectIdentity,
  SerializedRequest,
  SerializedResponse,
  WorkerApi,
} from "./protocol.ts";
import { assertSerializable, findRpcMember } from "./rpc-values.ts";
import { markReset } from "../shared/comlink-node.ts";
import { DurableObjectStorage } from "./storage.ts";
import { DurableObjectId } from "./namespace.ts";

/**
 * The inside of one worker thread: either the project's stateless entry
 * Worker, or one Durable Object at a time. A pooled worker loads the code
 * first (`load`) and takes on an object's identity later (`activate`), so a
 * cold object costs an SQLite open and a constructor, not a thread start.
 */
export function startIsolate(): void {
  installErrorTransfer();
  const port = parentPort;
  if (!port) throw new Error("isolate must run in a worker thread");
  const gatewayPort = (workerData as { gatewayPort: MessagePort }).gatewayPort;
  const gateway = cachedRemote(Comlink.wrap<GatewayApi>(nodeEndpoint(gatewayPort)));
  captureConsole(gateway);
  Comlink.expose(new Isolate(gateway), nodeEndpoint(port));
}

function captureConsole(gateway: Comlink.Remote<GatewayApi>): void {
  let pending: LogRecord[] = [];
  const flush = (): void => {
    const batch = pending;
    pending = [];
    void gateway.log(batch);
  };
  const levels: LogLevel[] = ["debug", "log", "info", "warn", "error"];
  for (const level of levels) {
    console[level] = (...args: unknown[]) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ level, time: Date.now(), message: format(...args) });
    };
  }
}

function exportedClasses(module: Record<string, unknown>): string[] {
  return Object.keys(module).filter((k) => typeof module[k] === "function");
}

interface Loaded {
  spec: CodeSpec;
  module: Record<string, unknown>;
  env: Record<string, unknown>;
}

interface Active {
  identity: ObjectIdentity;
  db: Database.Database;
  storage: DurableObjectStorage;
  instance: Record<string, unknown>;
  waitUntil: Set<Promise<unknown>>;
}

class EventBusBinding {
  readonly #gateway: Comlink.Remote<GatewayApi>;
  constructor(gateway: Comlink.Remote<GatewayApi>) {
    this.#gateway = gateway;
  }
  /** Publishes `data` on `topic`; resolves once the event is persisted. */
  publish(topic: string, data: unknown): Promise<{ id: number }> {
    if (typeof topic !== "string" || topic === "")
      return Promise.reject(new TypeError("publish() needs a topic name."));
    return this.#gateway.publish(topic, data);
  }
}

class Isolate implements WorkerApi {
  readonly #gateway: Comlink.Remote<GatewayApi>;
  #loaded: Loaded | null = null;
  #active: Active | null = null;
  /** Set while blockConcurrencyWhile runs: events wait for it. */
  #gate: Promise<void> | null = null;
  #entryCtx = {
    waitUntil: (p: Promise<unknown>) => {
      void Promise.resolve(p).catch((e: unknown) => console.error("waitUntil promise rejected:", e));
    },
    passThroughOnException: () => {},
  };

  constructor(gateway: Comlink.Remote<GatewayApi>) {
    this.#gateway = gateway;
  }

  async load(spec: CodeSpec): Promise<{ classes: string[] }> {
    if (this.#loaded?.spec.bundlePath === spec.bundlePath)
      return { classes: exportedClasses(this.#loaded.module) };
    const env: Record<string, unknown> = { ...spec.vars };
    for (const b of spec.durableObjects) {
      env[b.binding] = new DurableObjectNamespace(b.binding, spec.workerName, b.className, this.#gateway);
    }
    if (spec.eventBusBinding) env[spec.eventBusBinding] = new EventBusBinding(this.#gateway);
    (globalThis as Record<string, unknown>).__terrarium = { env };
    const module = (await import(pathToFileURL(spec.bundlePath).href)) as Record<string, unknown>;
    this.#loaded = { spec, module, env };
    return { classes: exportedClasses(module) };
  }

  async activate(identity: ObjectIdentity): Promise<void> {
    const loaded = this.#requireLoaded();
    const Ctor = loaded.module[identity.className];
    if (typeof Ctor !== "function") {
      throw new TypeError(
        `The project's main module does not export a class named ${identity.className}; ` +
          `add \`export class ${identity.className}\` (or fix durable_objects.bindings).`,
      );
    }
    mkdirSync(dirname(identity.dbPath), { recursive: true });
    const db = new Database(identity.dbPath);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const gateway = this.#gateway;
    const storage = new DurableObjectStorage(
      db,
      { initial: identity.alarm, alarmChanged: (t) => void gateway.setAlarm(t) },
      { deleteAllDeletesAlarm: loaded.spec.compatibilityDate >= "2026-02-24" },
    );
    const waitUntil = new Set<Promise<unknown>>();
    const id = new DurableObjectId(identity.id, identity.name ?? undefined);
    const ctx = {
      id,
      storage,
      waitUntil: (p: Promise<unknown>) => {
        const tracked = Promise.resolve(p)
          .catch((e: unknown) => console.error("waitUntil promise rejected:", e))
          .finally(() => waitUntil.delete(tracked));
        waitUntil.add(tracked);
      },
      blockConcurrencyWhile: <T>(fn: () => Promise<T> | T): Promise<T> => this.#blockConcurrencyWhile(fn),
      abort: (reason?: string) => {
        setImmediate(() => {
          throw new Error(`Durable Object aborted${reason ? `: ${reason}` : ""}`);
        });
      },
    };
    let instance: Record<string, unknown>;
    try {
      instance = new (Ctor as new (ctx: unknown, env: unknown) => Record<string, unknown>)(ctx, loaded.env);
      this.#active = { identity, db, storage, instance, waitUntil };
      await this.#waitGate();
      this.#throwIfBroken();
    } catch (e) {
      this.#active = null;
      db.close();
      throw e;
    }
  }

  async fetch(req: SerializedRequest): Promise<SerializedResponse> {
    const loaded = this.#requireLoaded();
    await this.#waitGate();
    const request = deserializeRequest(req);
    let response: unknown;
    if (this.#active) {
      const handler = this.#active.instance.fetch;
      if (typeof handler !== "function") {
        throw new TypeError(`Handler does not export a fetch() function.`);
      }
      response = await (handler as (r: Request) => unknown).call(this.#active.instance, request);
      this.#throwIfBroken();
    } else {
      response = await this.#entryFetch(loaded, request);
    }
    if (!(response instanceof Response)) {
      throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    }
    const out = await serializeResponse(response);
    return Comlink.transfer(out, bodyTransfer(out));
  }

  async #entryFetch(loaded: Loaded, request: Request): Promise<unknown> {
    const entry = loaded.module.default;
    if (typeof entry === "function") {
      const instance = new (entry as new (ctx: unknown, env: unknown) => { fetch?: (r: Request) => unknown })(
        this.#entryCtx,
        loaded.env,
      );
      if (typeof instance.fetch !== "function")
        throw new TypeError("Handler does not export a fetch() function.");
      return instance.fetch(request);
    }
    const handler = (entry as { fetch?: unknown } | undefined)?.fetch;
    if (typeof handler !== "function") throw new TypeError("Handler does not export a fetch() function.");
    return (handler as (r: Request, env: unknown, ctx: unknown) => unknown).call(
      entry,
      request,
      loaded.env,
      this.#entryCtx,
    );
  }

  async rpc(method: string, args: unknown[], kind: "call" | "get" = "call"): Promise<unknown> {
    await this.#waitGate();
    const active = this.#requireActive();
    const member = findRpcMember(active.instance, method);
    let result: unknown;
    if (kind === "get") {
      if (!member) throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
      result = member.get ? member.get.call(active.instance) : member.value;
      if (typeof result === "function") throw new TypeError(`"${method}" is a method; call it.`);
    } else {
      const fn = member?.get ? member.get.call(active.instance) : member?.value;
      if (typeof fn !== "function") {
        throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
      }
      result = await (fn as (...a: unknown[]) => unknown).apply(active.instance, args);
    }
    this.#throwIfBroken();
    assertSerializable(result);
    return result;
  }

  /** Set when a blockConcurrencyWhile callback threw: the object is being reset. */
  #broken: Error | null = null;

  #throwIfBroken(): void {
    if (this.#broken) throw this.#broken;
  }

  async alarm(info: AlarmInvocation): Promise<number | null> {
    await this.#waitGate();
    const active = this.#requireActive();
    const fn = active.instance.alarm;
    active.storage.takeAlarm();
    if (typeof fn === "function") await (fn as (i: AlarmInvocation) => unknown).call(active.instance, info);
    return active.storage.currentAlarm();
  }

  async deactivate(): Promise<void> {
    const active = this.#active;
    if (!active) return;
    await Promise.race([
      Promise.allSettled([...active.waitUntil]),
      new Promise((r) => setTimeout(r, 30_000)),
    ]);
    this.#active = null;
    active.db.close();
  }

  memory(): { heapUsed: number; rss: number } {
    const m = process.memoryUsage();
    return { heapUsed: m.heapUsed, rss: m.rss };
  }

  #requireLoaded(): Loaded {
    if (!this.#loaded) throw new Error("worker has no code loaded");
    return this.#loaded;
  }

  #requireActive(): Active {
    if (!this.#active) throw new Error("worker has no active Durable Object");
    return this.#active;
  }

  async #waitGate(): Promise<void> {
    while (this.#gate) await this.#gate;
  }

  #blockConcurrencyWhile<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = (async () => {
      await this.#waitGate();
      return fn();
    })();
    const gate = run.then(
      () => undefined,
      (e: unknown) => {
        // workerd resets an object whose blockConcurrencyWhile callback
        // throws: the event that called it fails, then the worker ends.
        const err = e instanceof Error ? e : new Error(String(e));
        markReset(err);
        this.#broken = err;
        setTimeout(() => {
          throw err;
        }, 0);
      },
    );
    this.#gate = gate.finally(() => {
      if (this.#gate === gatePromise) this.#gate = null;
    });
    const gatePromise = this.#gate;
    return run;
  }
}
