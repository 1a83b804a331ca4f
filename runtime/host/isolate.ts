import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import Database from "better-sqlite3";
import * as Comlink from "comlink";
import { cachedRemote, installErrorTransfer, nodeEndpoint } from "../shared/comlink-node.ts";
import { bodyTransfer, deserializeRequest, pathOf, serializeResponse } from "./http-serialize.ts";
import { errorText } from "../shared/errors.ts";
import { DurableObjectNamespace, type ClientSocketFactory } from "./namespace.ts";
import { D1Database } from "../bindings/d1.ts";
import { R2Bucket } from "../bindings/r2.ts";
import { KVNamespace } from "../bindings/kv.ts";
import {
  MessageBatch,
  outcomeOf,
  WorkerQueue,
  type BatchMetrics,
  type DeliveredMessage,
  type QueueOutcome,
} from "../bindings/queue.ts";
import { remoteOnlyBinding } from "../bindings/remote-only.ts";
import { runWorkflow, WorkflowBinding } from "../bindings/workflows.ts";
import { RateLimitBinding } from "../bindings/ratelimit.ts";
import { AnalyticsEngineDataset } from "../bindings/analytics-engine.ts";
import type { WorkflowRunResult, WorkflowRunSpec } from "../bindings/workflow-calls.ts";
import { AssetsBinding } from "./assets-binding.ts";
import { installMockFetch } from "../bindings/mock-fetch.ts";
import { serviceBinding } from "./service-binding.ts";
import type {
  AlarmInvocation,
  CodeSpec,
  DirectRecord,
  DirectReport,
  GatewayApi,
  GatewayNotice,
  PeerApi,
  PeerReply,
  LogLevel,
  LogRecord,
  ObjectIdentity,
  SerializedRequest,
  SerializedResponse,
  SocketEvent,
  SocketInfo,
  WorkerApi,
} from "./protocol.ts";
import { assertSerializable, findRpcMember } from "./rpc-values.ts";
import { BYE, Peers } from "./peers.ts";
import { markReset, serializeError } from "../shared/comlink-node.ts";
import { serveLean } from "../shared/lean-rpc.ts";
import { runQuery, type QueryResult } from "../shared/sql-query.ts";
import { DurableObjectStorage } from "./storage.ts";
import { DurableObjectId } from "./namespace.ts";
import { BaseResponse, WorkersResponse } from "./response.ts";
import {
  closeEvent,
  makeWebSocketPairClass,
  messageEvent,
  SOCKET,
  TerrariumWebSocket,
  WebSocketRequestResponsePair,
  type SocketLink,
} from "./websocket.ts";
import { openSqlite } from "../shared/sqlite-native.ts";
import { installEsBuiltins } from "./es-builtins.ts";
import { installWorkersGlobals } from "./globals.ts";
import { instanceFields, type ObjectProbe } from "./probe.ts";
import type { TerrariumHost } from "../workers-api/host.ts";
import { currentTrace, underTrace } from "./trace-scope.ts";
import { newSpanId, type TraceContext } from "../shared/trace-context.ts";

/**
 * The inside of one worker thread: either the project's stateless entry
 * Worker, or one Durable Object at a time. A pooled worker loads the code
 * first (`load`) and takes on an object's identity later (`activate`), so a
 * cold object costs an SQLite open and a constructor, not a thread start.
 */
export function startIsolate(): void {
  installEsBuiltins();
  installErrorTransfer();
  const port = parentPort;
  if (!port) throw new Error("isolate must run in a worker thread");
  const gatewayPort = (workerData as { gatewayPort: MessagePort }).gatewayPort;
  const gateway = cachedRemote(Comlink.wrap<GatewayApi>(nodeEndpoint(gatewayPort)));
  const notify = (n: GatewayNotice): void => gatewayPort.postMessage(n);
  captureConsole(notify);
  const isolate = new Isolate(gateway, notify);
  Comlink.expose(isolate, nodeEndpoint(port));
  // The orchestrator's requests to the entry Worker come on a lean line beside Comlink.
  serveLean(
    port,
    { fetch: (req: SerializedRequest, trace?: TraceContext) => isolate.fetch(req, trace) },
    (_m, res) => bodyTransfer(res as SerializedResponse),
  );
}

function captureConsole(notify: (n: GatewayNotice) => void): void {
  let pending: LogRecord[] = [];
  const flush = (): void => {
    const records = pending;
    pending = [];
    notify({ notice: "log", records });
  };
  const levels: LogLevel[] = ["debug", "log", "info", "warn", "error"];
  for (const level of levels) {
    console[level] = (...args: unknown[]) => {
      if (pending.length === 0) setImmediate(flush);
      const trace = currentTrace();
      const record: LogRecord = { level, time: Date.now(), message: format(...args) };
      if (trace) record.trace = trace;
      pending.push(record);
    };
  }
}

/** Set inside a blockConcurrencyWhile callback while it holds the object's input gate. */
const gateHolder = new AsyncLocalStorage<{ held: boolean }>();

/**
 * Client ends this thread accepted: sockets an object's fetch answered a
 * stub here with, which the code reads itself instead of handing them on
 * (a Worker relaying an object's socket, as agents/mcp does).
 */
const clientEnds = new Map<string, TerrariumWebSocket>();

/** Server ends made by `new WebSocketPair()` in this thread, until they are accepted or dropped. */
const pendingServerEnds = new Map<string, TerrariumWebSocket>();

/** An RPC call (or, with kind "get", a getter's read) on `instance`, with workerd's errors. */
async function callMember(
  instance: Record<string, unknown>,
  method: string,
  args: unknown[],
  kind: "call" | "get",
): Promise<unknown> {
  const member = findRpcMember(instance, method);
  if (kind === "get") {
    if (!member) throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
    const value = member.get ? member.get.call(instance) : member.value;
    if (typeof value === "function") throw new TypeError(`"${method}" is a method; call it.`);
    return value;
  }
  const fn = member?.get ? member.get.call(instance) : member?.value;
  if (typeof fn !== "function") {
    throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
  }
  return (fn as (...a: unknown[]) => unknown).apply(instance, args);
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
  /** The object's ctx.waitUntil (also what `waitUntil` from cloudflare:workers calls). */
  extend: (p: Promise<unknown>) => void;
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
    return this.#gateway.publish(topic, data, currentTrace());
  }
}

/** The class `Isolate.warm()` runs: the calls a typical object makes on its first request. */
class WarmUpObject {
  readonly #ctx: { storage: DurableObjectStorage };
  constructor(ctx: { storage: DurableObjectStorage }) {
    this.#ctx = ctx;
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  }

  async fetch(request: Request): Promise<Response> {
    const input = (await request.json()) as unknown;
    const { sql } = this.#ctx.storage;
    const row = sql
      .exec<{ v: number }>(
        "INSERT INTO t (id, v) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET v = v + 1 RETURNING v",
      )
      .one();
    sql.exec("SELECT id, v FROM t WHERE id = ?", 1).toArray();
    for (const r of sql.exec("SELECT v FROM t").raw()) row.v += Number(r[0] ?? 0);
    const storage = this.#ctx.storage;
    await storage.put("k", { input, row });
    await storage.get("k");
    await storage.list({ prefix: "k" });
    await storage.delete("k");
    storage.kv.put("s", 1);
    storage.kv.get("s");
    return new Response(JSON.stringify(row), { headers: { "content-type": "application/json" } });
  }

  async ping(value: unknown): Promise<unknown> {
    await this.#ctx.storage.put("p", value);
    return this.#ctx.storage.get("p");
  }
}

class Isolate implements WorkerApi {
  readonly #gateway: Comlink.Remote<GatewayApi>;
  readonly #notify: (n: GatewayNotice) => void;
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

  /** Server ends of this worker's WebSockets (the active object's, or the entry's own). */
  readonly #sockets = new Map<string, TerrariumWebSocket>();
  #autoResponse: WebSocketRequestResponsePair | null = null;
  readonly #link: SocketLink;

  readonly #peers: Peers;
  readonly #clientSocket: ClientSocketFactory;

  constructor(gateway: Comlink.Remote<GatewayApi>, notify: (n: GatewayNotice) => void) {
    this.#gateway = gateway;
    this.#notify = notify;
    this.#peers = new Peers(gateway, (reports) => notify({ notice: "direct", reports }));
    const sockets = this.#sockets;
    this.#link = {
      send: (id, data) =>
        void gateway.wsSend(id, data instanceof ArrayBuffer ? Comlink.transfer(data, [data]) : data),
      close: (id, code, reason) => void gateway.wsClose(id, code, reason),
      accept: (id, info) => void gateway.wsAccept(id, info),
      attach: (id, value) => void gateway.wsAttach(id, value),
    };
    const link = this.#link;
    this.#clientSocket = (id) => {
      const ws: TerrariumWebSocket = new TerrariumWebSocket(id, "client", {
        accept: () => {
          clientEnds.set(id, ws);
          void gateway.wsHold(id);
        },
        send: (_id, data) =>
          void gateway.wsClientSend(id, data instanceof ArrayBuffer ? Comlink.transfer(data, [data]) : data),
        close: (_id, code, reason) => void gateway.wsClientClose(id, code, reason),
        attach: () => {},
      });
      return ws;
    };
    const g = globalThis as Record<string, unknown>;
    // ws.accept() (the standard API) registers the socket here as well.
    const pairLink: SocketLink = {
      ...link,
      accept: (id, info) => {
        const ws = pendingServerEnds.get(id);
        if (ws) sockets.set(id, ws);
        link.accept(id, info);
      },
    };
    g.WebSocketPair = makeWebSocketPairClass(pairLink, (server) =>
      pendingServerEnds.set(server[SOCKET].id, server),
    );
    g.WebSocketRequestResponsePair = WebSocketRequestResponsePair;
    g.Response = WorkersResponse;
  }

  async load(spec: CodeSpec): Promise<{ classes: string[] }> {
    if (this.#loaded?.spec.bundlePath === spec.bundlePath)
      return { classes: exportedClasses(this.#loaded.module) };
    const env: Record<string, unknown> = { ...spec.vars };
    for (const b of spec.durableObjects) {
      env[b.binding] = new DurableObjectNamespace(
        b.binding,
        b.scriptName ?? spec.workerName,
        b.className,
        this.#peers,
        this.#clientSocket,
      );
    }
    if (spec.eventBusBinding) env[spec.eventBusBinding] = new EventBusBinding(this.#gateway);
    for (const d of spec.d1Databases) env[d.binding] = new D1Database(d.path);
    for (const r of spec.r2Buckets) env[r.binding] = new R2Bucket(r.path);
    for (const k of spec.kvNamespaces) env[k.binding] = new KVNamespace(k.path);
    // workerd's queues_json_messages (default from 2024-03-18): JSON unless the send names a content type.
    const queueType = spec.compatibilityDate >= "2024-03-18" ? "json" : "v8";
    for (const q of spec.queueProducers) {
      env[q.binding] = new WorkerQueue(
        q.queue,
        (queue, messages) =>
          this.#gateway.queueSend(
            queue,
            Comlink.transfer(
              messages,
              messages.map((m) => m.body.buffer as ArrayBuffer),
            ),
            currentTrace(),
          ),
        queueType,
        q.deliveryDelay,
      );
    }
    for (const r of spec.remoteOnly) env[r.binding] = remoteOnlyBinding(r);
    for (const a of spec.analyticsEngine ?? [])
      env[a.binding] = new AnalyticsEngineDataset(a, (p) => void this.#gateway.dataPoint(p));
    for (const r of spec.rateLimits ?? [])
      env[r.binding] = new RateLimitBinding(r, (b, k, l, p) => this.#gateway.rateLimit(b, k, l, p));
    for (const w of spec.workflows ?? [])
      env[w.binding] = new WorkflowBinding(w.binding, (call) => this.#gateway.workflow(call));
    if (spec.assets) env[spec.assets.binding] = new AssetsBinding(spec.assets.spec);
    const gateway = this.#gateway;
    for (const svc of spec.services) {
      env[svc.binding] = serviceBinding(svc.binding, {
        fetch: (b, req) => gateway.serviceFetch(b, Comlink.transfer(req, bodyTransfer(req))),
        rpc: (b, method, args, kind) => gateway.serviceRpc(b, method, args, kind),
      });
    }
    installMockFetch(spec.mocks, (c) => {
      void this.#gateway.mockCall(c, currentTrace());
      console.log(`mock ${c.method} ${c.url} -> ${c.status} (${Math.round(c.latencyMs)} ms)`);
    });
    const exports: Record<string, unknown> = {};
    for (const b of spec.durableObjects) if (!b.scriptName) exports[b.className] ??= env[b.binding];
    installWorkersGlobals(spec.compatibilityFlags);
    const scope = new AsyncLocalStorage<{ env: Record<string, unknown>; exports: Record<string, unknown> }>();
    const base = { env, exports };
    const host: TerrariumHost = {
      env,
      exports,
      current: () => scope.getStore() ?? base,
      runWith: (s, fn) => scope.run(s, fn),
      waitUntil: (p) => (this.#active ? this.#active.extend(p) : this.#entryCtx.waitUntil(p)),
    };
    (globalThis as Record<string, unknown>).__terrarium = host;
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
    await this.#become(identity, Ctor, loaded);
  }

  /**
   * Runs Terrarium's own object path once (activate, a fetch and an RPC call
   * doing SQL and KV work, deactivate) with a class of its own on an
   * in-memory database, so that a pooled worker's first real object runs
   * compiled code instead of paying V8's lazy compilation on its first
   * request. No project code runs.
   */
  async warm(): Promise<void> {
    const loaded = this.#requireLoaded();
    const identity: ObjectIdentity = {
      className: WarmUpObject.name,
      id: "0".repeat(64),
      name: null,
      dbPath: ":memory:",
      alarm: null,
      sockets: [],
    };
    await this.#become(identity, WarmUpObject, loaded);
    try {
      const body = new TextEncoder().encode('{"warm":true}').buffer;
      await this.fetch({
        url: "http://warm-up/",
        method: "POST",
        headers: [["content-type", "application/json"]],
        body,
      });
      await this.rpc("ping", [{ n: 1 }]);
    } finally {
      await this.deactivate();
    }
  }

  async #become(identity: ObjectIdentity, Ctor: unknown, loaded: Loaded): Promise<void> {
    if (identity.dbPath !== ":memory:") mkdirSync(dirname(identity.dbPath), { recursive: true });
    const db = openSqlite(identity.dbPath);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const gateway = this.#gateway;
    const storage = new DurableObjectStorage(
      db,
      { initial: identity.alarm, alarmChanged: (t) => void gateway.setAlarm(t) },
      {
        deleteAllDeletesAlarm: loaded.spec.compatibilityDate >= "2026-02-24",
        onRows: (read, written) => this.#countRows(identity.id, read, written),
      },
    );
    const waitUntil = new Set<Promise<unknown>>();
    const id = new DurableObjectId(identity.id, identity.name ?? undefined);
    this.#sockets.clear();
    this.#autoResponse = null;
    for (const held of identity.sockets) {
      const ws = new TerrariumWebSocket(held.id, "server", this.#link);
      Object.assign(ws[SOCKET], {
        accepted: true,
        hibernatable: true,
        tags: held.tags,
        attachment: held.attachment,
        autoResponseAt: held.autoResponseAt,
      });
      this.#sockets.set(held.id, ws);
    }
    const extend = (p: Promise<unknown>): void => {
      const tracked = Promise.resolve(p)
        .catch((e: unknown) => console.error("waitUntil promise rejected:", e))
        .finally(() => waitUntil.delete(tracked));
      waitUntil.add(tracked);
    };
    const ctx = {
      id,
      storage,
      waitUntil: extend,
      blockConcurrencyWhile: <T>(fn: () => Promise<T> | T): Promise<T> => this.#blockConcurrencyWhile(fn),
      acceptWebSocket: (ws: TerrariumWebSocket, tags: string[] = []) => {
        if (!(ws instanceof TerrariumWebSocket) || ws[SOCKET].role !== "server") {
          throw new TypeError("acceptWebSocket() takes the server end of a WebSocketPair.");
        }
        const s = ws[SOCKET];
        if (s.accepted) throw new TypeError("The WebSocket has already been accepted.");
        if (tags.length > 10) throw new RangeError("A WebSocket can have at most 10 tags.");
        s.accepted = true;
        s.hibernatable = true;
        s.tags = tags.map(String);
        this.#sockets.set(s.id, ws);
        this.#link.accept(s.id, { hibernatable: true, tags: s.tags });
      },
      getWebSockets: (tag?: string) =>
        [...this.#sockets.values()].filter(
          (ws) =>
            ws[SOCKET].hibernatable &&
            ws[SOCKET].readyState <= 1 &&
            (tag === undefined || ws[SOCKET].tags.includes(tag)),
        ),
      getTags: (ws: TerrariumWebSocket) => {
        if (!(ws instanceof TerrariumWebSocket) || !ws[SOCKET].hibernatable)
          throw new TypeError("getTags() takes a hibernatable WebSocket.");
        return [...ws[SOCKET].tags];
      },
      setWebSocketAutoResponse: (pair?: WebSocketRequestResponsePair) => {
        this.#autoResponse = pair ?? null;
        void gateway.wsAutoResponse(pair ? { request: pair.request, response: pair.response } : null);
      },
      getWebSocketAutoResponse: () => this.#autoResponse,
      getWebSocketAutoResponseTimestamp: (ws: TerrariumWebSocket) =>
        ws instanceof TerrariumWebSocket && ws[SOCKET].autoResponseAt !== null
          ? new Date(ws[SOCKET].autoResponseAt)
          : null,
      setHibernatableWebSocketEventTimeout: (_ms?: number) => {},
      getHibernatableWebSocketEventTimeout: () => null,
      // As workerd: throws the reason at once, fails the running event even
      // if it catches, and resets the object (the next event meets a new one).
      abort: (reason?: string) => {
        const err = new Error(
          reason === undefined ? "Application called abort() to reset Durable Object." : String(reason),
        );
        this.#break(err);
        throw err;
      },
    };
    let instance: Record<string, unknown>;
    try {
      instance = new (Ctor as new (ctx: unknown, env: unknown) => Record<string, unknown>)(ctx, loaded.env);
      this.#active = { identity, db, storage, instance, waitUntil, extend };
      await this.#waitGate();
    } catch (e) {
      this.#active = null;
      db.close();
      throw e;
    }
  }

  fetch(req: SerializedRequest, trace?: TraceContext): Promise<SerializedResponse> {
    return underTrace(trace, () => this.#fetch(req));
  }

  async #fetch(req: SerializedRequest): Promise<SerializedResponse> {
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
    if (!(response instanceof BaseResponse)) {
      throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    }
    const out = await serializeResponse(response, (ws) => this.#socketInfo(ws));
    return Comlink.transfer(out, bodyTransfer(out));
  }

  #socketInfo(client: TerrariumWebSocket): SocketInfo {
    const id = client[SOCKET].id;
    const server = this.#sockets.get(id) ?? pendingServerEnds.get(id);
    pendingServerEnds.delete(id);
    const s = server?.[SOCKET];
    if (server && !this.#sockets.has(id) && s?.accepted) this.#sockets.set(id, server);
    return {
      id,
      accepted: s?.accepted ?? false,
      hibernatable: s?.hibernatable ?? false,
      tags: s?.tags ?? [],
    };
  }

  async wsEvent(e: SocketEvent): Promise<void> {
    await this.#waitGate();
    const ws = this.#sockets.get(e.id) ?? clientEnds.get(e.id);
    if (!ws) return;
    if (e.type === "close") {
      ws[SOCKET].readyState = 3;
      this.#sockets.delete(e.id);
      clientEnds.delete(e.id);
    }
    if (e.type === "message" && e.autoResponseAt !== undefined) ws[SOCKET].autoResponseAt = e.autoResponseAt;
    const instance = this.#active?.instance;
    if (ws[SOCKET].hibernatable && instance) {
      const handler =
        e.type === "message"
          ? instance.webSocketMessage
          : e.type === "close"
            ? instance.webSocketClose
            : instance.webSocketError;
      if (typeof handler !== "function") return;
      if (e.type === "message")
        await (handler as (w: unknown, m: unknown) => unknown).call(instance, ws, e.data);
      else if (e.type === "close")
        await (handler as (w: unknown, c: number, r: string, cl: boolean) => unknown).call(
          instance,
          ws,
          e.code,
          e.reason,
          e.wasClean,
        );
      else await (handler as (w: unknown, err: unknown) => unknown).call(instance, ws, new Error(e.message));
      this.#throwIfBroken();
      return;
    }
    if (e.type === "message") ws.dispatchEvent(messageEvent(e.data));
    else if (e.type === "close") ws.dispatchEvent(closeEvent(e.code, e.reason, e.wasClean));
    else ws.dispatchEvent(Object.assign(new Event("error"), { message: e.message }));
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

  /**
   * Runs the entry Worker's `queue(batch, env, ctx)` (or a WorkerEntrypoint's
   * `queue(batch)`) and reports what it decided; a handler that throws, or
   * is missing, is an "exception" outcome, never a failed call.
   */
  queue(
    queue: string,
    messages: DeliveredMessage[],
    metrics: BatchMetrics,
    trace?: TraceContext,
  ): Promise<QueueOutcome> {
    return underTrace(trace, () => this.#queue(queue, messages, metrics));
  }

  async #queue(queue: string, messages: DeliveredMessage[], metrics: BatchMetrics): Promise<QueueOutcome> {
    const loaded = this.#requireLoaded();
    const batch = new MessageBatch(queue, messages, metrics);
    try {
      const entry = loaded.module.default;
      if (typeof entry === "function") {
        const instance = new (
          entry as new (ctx: unknown, env: unknown) => { queue?: (b: unknown) => unknown }
        )(this.#entryCtx, loaded.env);
        if (typeof instance.queue !== "function")
          throw new TypeError("Handler does not export a queue() function.");
        await instance.queue(batch);
      } else {
        const handler = (entry as { queue?: unknown } | undefined)?.queue;
        if (typeof handler !== "function") throw new TypeError("Handler does not export a queue() function.");
        await (handler as (b: unknown, env: unknown, ctx: unknown) => unknown).call(
          entry,
          batch,
          loaded.env,
          this.#entryCtx,
        );
      }
    } catch (e) {
      return outcomeOf(batch, e ?? new Error(String(e)));
    }
    return outcomeOf(batch, undefined);
  }

  rpc(
    method: string,
    args: unknown[],
    kind: "call" | "get" = "call",
    trace?: TraceContext,
  ): Promise<unknown> {
    return underTrace(trace, () => this.#rpc(method, args, kind));
  }

  async #rpc(method: string, args: unknown[], kind: "call" | "get"): Promise<unknown> {
    await this.#waitGate();
    const active = this.#requireActive();
    const result = await callMember(active.instance, method, args, kind);
    this.#throwIfBroken();
    assertSerializable(result);
    return result;
  }

  async entrypoint(
    entrypoint: string | null,
    call: { fetch: SerializedRequest } | { method: string; args: unknown[]; kind: "call" | "get" },
  ): Promise<unknown> {
    const loaded = this.#requireLoaded();
    const name = entrypoint ?? "default";
    const exported = loaded.module[name];
    if (exported === undefined) {
      throw new TypeError(`The Worker ${loaded.spec.workerName} has no entrypoint named "${name}".`);
    }
    if ("fetch" in call) {
      const request = deserializeRequest(call.fetch);
      let response: unknown;
      if (entrypoint === null) response = await this.#entryFetch(loaded, request);
      else {
        // workerd's words, and a plain Error (not a TypeError) for a named entrypoint.
        const noFetch = new Error("Handler does not export a fetch() function.");
        if (typeof exported !== "function") throw noFetch;
        const instance = new (exported as new (ctx: unknown, env: unknown) => { fetch?: unknown })(
          this.#entryCtx,
          loaded.env,
        );
        if (typeof instance.fetch !== "function") throw noFetch;
        response = await (instance.fetch as (r: Request) => unknown).call(instance, request);
      }
      if (!(response instanceof BaseResponse)) {
        throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
      }
      const out = await serializeResponse(response);
      return Comlink.transfer(out, bodyTransfer(out));
    }
    // RPC needs a class (a WorkerEntrypoint); a plain object's methods are not callable remotely.
    const receiver =
      typeof exported === "function"
        ? new (exported as new (ctx: unknown, env: unknown) => Record<string, unknown>)(
            this.#entryCtx,
            loaded.env,
          )
        : {};
    const result = await callMember(receiver, call.method, call.args, call.kind);
    assertSerializable(result);
    return result;
  }

  /** Set when a blockConcurrencyWhile callback threw: the object is being reset. */
  #broken: Error | null = null;

  #throwIfBroken(): void {
    if (this.#broken) throw this.#broken;
  }

  alarm(info: AlarmInvocation, trace?: TraceContext): Promise<number | null> {
    return underTrace(trace, () => this.#alarm(info));
  }

  async #alarm(info: AlarmInvocation): Promise<number | null> {
    await this.#waitGate();
    const active = this.#requireActive();
    const fn = active.instance.alarm;
    active.storage.takeAlarm();
    if (typeof fn === "function") await (fn as (i: AlarmInvocation) => unknown).call(active.instance, info);
    return active.storage.currentAlarm();
  }

  async adminSql(sql: string, params: unknown[]): Promise<QueryResult> {
    await this.#waitGate();
    const active = this.#requireActive();
    try {
      return runQuery(active.db, sql, params, { allowWrites: true });
    } finally {
      active.storage.afterExternalWrite();
    }
  }

  async snapshotTo(dest: string): Promise<void> {
    await this.#waitGate();
    const active = this.#requireActive();
    const into = `VACUUM INTO '${dest.replaceAll("'", "''")}'`;
    // VACUUM refuses to run inside a transaction (one held open across an
    // await by storage.transaction()): then a second connection copies what
    // is committed, which leaves that transaction out, as a crash would.
    if (!active.db.inTransaction) {
      active.db.exec(into);
      return;
    }
    const reader = openSqlite(active.identity.dbPath, { readonly: true, fileMustExist: true });
    try {
      reader.exec(into);
    } finally {
      reader.close();
    }
  }

  // ---- direct lines from other workers (runtime/host/peers.ts) ----

  /** Set while the object is being deactivated: direct calls are refused ("moved"). */
  #leaving = false;
  /** Calls running on direct lines. */
  #direct = 0;

  readonly #peerPorts = new Set<MessagePort>();

  leave(): void {
    this.#leaving = true;
  }

  /** Closes every direct line into this worker, saying goodbye first (the worker is about to end). */
  closePeers(): void {
    for (const port of this.#peerPorts) {
      // With no object active here nothing on these lines can have run, so
      // callers may safely send what is pending through the orchestrator;
      // the same once the object broke (a call arriving since was refused
      // unrun, and the pending ones go to its fresh instance).
      if (!this.#active || this.#broken) port.postMessage(BYE);
      port.close();
    }
    this.#peerPorts.clear();
  }

  connectPeer(port: MessagePort): void {
    this.#peerPorts.add(port);
    port.on("close", () => this.#peerPorts.delete(port));
    const api: PeerApi = {
      fetch: (id, req, trace) =>
        this.#directCall(id, "fetch", `${req.method} ${pathOf(req.url)}`, trace, (span) =>
          this.fetch(req, span),
        ),
      rpc: (id, method, args, kind, trace) =>
        this.#directCall(
          id,
          "rpc",
          kind === "call" ? `rpc ${method}()` : `rpc get ${method}`,
          trace,
          (span) => this.rpc(method, args, kind, span),
        ),
    };
    serveLean(port, { ...api }, (method, reply) => {
      const res = method === "fetch" ? (reply as { v?: SerializedResponse }).v : undefined;
      return res ? bodyTransfer(res) : [];
    });
  }

  /**
   * Runs a call that came on a direct line, answering with its result (or
   * error) and its record; the caller reports the records to the
   * orchestrator (runtime/host/peers.ts). A call for an object this worker
   * no longer hosts is refused as "moved", not run.
   */
  async #directCall<T>(
    id: string,
    kind: DirectRecord["kind"],
    cause: string,
    trace: TraceContext | undefined,
    fn: (span: TraceContext | undefined) => Promise<T>,
  ): Promise<PeerReply<T>> {
    // A broken object is being reset: the orchestrator starts a fresh one.
    if (!this.#active || this.#active.identity.id !== id || this.#leaving || this.#broken) {
      const moved = new Error("the object is not here");
      moved.name = "TerrariumMoved";
      return { e: serializeError(moved) };
    }
    const start = performance.now();
    this.#direct++;
    // A traced call's span is made here, and reported with the call's record.
    const span = trace ? { t: trace.t, s: newSpanId() } : undefined;
    const traced = span && trace ? { trace: { t: span.t, s: span.s, p: trace.s } } : null;
    try {
      const v = await fn(span);
      const d: DirectRecord = {
        time: Date.now(),
        durationMs: performance.now() - start,
        ok: true,
        kind,
        cause,
      };
      if (traced) {
        Object.assign(d, traced);
        const status = (v as { status?: unknown } | null)?.status;
        if (kind === "fetch" && typeof status === "number") d.status = status;
      }
      return { v, d };
    } catch (e) {
      const d: DirectRecord = {
        time: Date.now(),
        durationMs: performance.now() - start,
        ok: false,
        kind,
        cause,
        error: errorText(e),
      };
      if (traced) Object.assign(d, traced);
      return { e: serializeError(e), d };
    } finally {
      this.#direct--;
    }
  }

  /** What this worker's own calls on direct lines have not reported yet. */
  takeDirect(): DirectReport[] {
    return this.#peers.take();
  }

  async deactivate(): Promise<void> {
    const active = this.#active;
    if (!active) return;
    this.#leaving = true;
    while (this.#direct > 0) await new Promise((r) => setTimeout(r, 2));
    await Promise.race([
      Promise.allSettled([...active.waitUntil]),
      new Promise((r) => setTimeout(r, 30_000)),
    ]);
    this.#active = null;
    this.#sockets.clear();
    pendingServerEnds.clear();
    clientEnds.clear();
    this.#autoResponse = null;
    this.#flushRows();
    active.db.close();
    this.#leaving = false;
  }

  workflowRun(spec: WorkflowRunSpec): Promise<WorkflowRunResult> {
    const loaded = this.#requireLoaded();
    return runWorkflow(loaded.module, loaded.env, this.#entryCtx, spec, (call) =>
      this.#gateway.workflow(call),
    );
  }

  /** SQL rows counted since the last "rows" notice, for the active object; sent once per turn of the loop. */
  #rows: { objectId: string; read: number; written: number } | null = null;

  #countRows(objectId: string, read: number, written: number): void {
    if (read === 0 && written === 0) return;
    if (this.#rows && this.#rows.objectId !== objectId) this.#flushRows();
    if (!this.#rows) {
      this.#rows = { objectId, read: 0, written: 0 };
      setImmediate(() => this.#flushRows());
    }
    this.#rows.read += read;
    this.#rows.written += written;
  }

  #flushRows(): void {
    const r = this.#rows;
    this.#rows = null;
    if (r) this.#notify({ notice: "rows", ...r });
  }

  probe(): ObjectProbe | null {
    const active = this.#active;
    if (!active) return null;
    return {
      waitUntil: active.waitUntil.size,
      blocking: this.#gate !== null,
      transaction: active.db.inTransaction,
      fields: instanceFields(active.instance),
    };
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

  /** Waits for the input gate; a broken gate fails the event with the error that broke it. */
  async #waitGate(): Promise<void> {
    while (this.#gate) await this.#gate;
    this.#throwIfBroken();
  }

  /**
   * workerd's input gate: events wait while the callback runs. A callback
   * that throws breaks the gate and resets the object: the event that called
   * it fails with the callback's error even if it catches it, every event
   * queued behind it (and any that arrives before the reset) fails with the
   * same error without running, and the orchestrator is told, so it ends
   * this worker once those answers are on their way. The worker never
   * crashes itself: an answer racing the thread's exit would make the error
   * the caller sees depend on timing.
   *
   * A call from inside a callback that holds the gate runs at once (workerd
   * nests critical sections): waiting for the gate there would wait for
   * itself, and the object would hang. PartyServer and the Agents SDK both
   * start up inside blockConcurrencyWhile, and onStart code may call it again.
   */
  #blockConcurrencyWhile<T>(fn: () => Promise<T> | T): Promise<T> {
    if (gateHolder.getStore()?.held) return Promise.resolve().then(fn);
    const holder = { held: true };
    const run = (async () => {
      await this.#waitGate();
      try {
        return await gateHolder.run(holder, fn);
      } finally {
        holder.held = false;
      }
    })();
    const gate = run.then(
      () => undefined,
      (e: unknown) => this.#break(e),
    );
    this.#gate = gate.finally(() => {
      if (this.#gate === gatePromise) this.#gate = null;
    });
    const gatePromise = this.#gate;
    return run;
  }

  /** The object broke itself (a failed blockConcurrencyWhile, abort()): see #blockConcurrencyWhile. */
  #break(e: unknown): void {
    if (this.#broken) return;
    const err = e instanceof Error ? e : new Error(String(e));
    markReset(err);
    this.#broken = err;
    this.#notify({ notice: "broken", error: serializeError(err) });
  }
}
