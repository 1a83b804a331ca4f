import { format } from "node:util";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import * as Comlink from "comlink";
import { cachedRemote, installErrorTransfer, nodeEndpoint } from "../shared/comlink-node.ts";
import { serveLean } from "../shared/lean-rpc.ts";
import { withStubPorts, type RpcArgs } from "../shared/rpc-wire.ts";
import { setExportCountReport, setExportHooks, withExportContext } from "./rpc-stubs.ts";
import type { QueryResult } from "../shared/sql-query.ts";
import type { BatchMetrics, DeliveredMessage, QueueOutcome } from "../bindings/queue.ts";
import type { WorkflowRunResult, WorkflowRunSpec } from "../bindings/workflow-calls.ts";
import type { EmailOutcome } from "../bindings/incoming-email.ts";
import type { ScheduledOutcome, ScheduledSpec } from "../bindings/scheduled.ts";
import { EntryHost } from "./entry-host.ts";
import { buildEnv } from "./env.ts";
import { installEsBuiltins } from "./es-builtins.ts";
import { guardFetchGlobals } from "./fetch-classes.ts";
import { bodyTransfer, deserializeRequest, serializeResponse } from "./http-serialize.ts";
import { exportedClasses, loadBundle, type Loaded } from "./load-bundle.ts";
import { ObjectHost } from "./object-host.ts";
import { PeerServer } from "./peer-server.ts";
import { Peers } from "./peers.ts";
import type { ObjectProbe } from "./probe.ts";
import type {
  AlarmInvocation,
  CodeSpec,
  DirectReport,
  GatewayApi,
  GatewayNotice,
  LogLevel,
  LogRecord,
  ObjectIdentity,
  SerializedRequest,
  SerializedResponse,
  SocketEvent,
  WorkerApi,
} from "./protocol.ts";
import { isResponse, WorkersResponse } from "./response.ts";
import { WARM_UP_IDENTITY, WarmUpObject } from "./warm-up.ts";
import { WebSocketRequestResponsePair } from "./websocket.ts";
import { WorkerSockets } from "./worker-sockets.ts";
import { currentTrace, underTrace } from "./trace-scope.ts";
import type { TraceContext } from "../shared/trace-context.ts";

/**
 * The inside of one worker thread: either the project's stateless entry
 * Worker, or one Durable Object at a time. A pooled worker loads the code
 * first (`load`) and takes on an object's identity later (`activate`), so a
 * cold object costs an SQLite open and a constructor, not a thread start.
 */
export function startIsolate(): void {
  // Before anything reads Request, Response, Headers or fetch: undici loads only when needed.
  guardFetchGlobals();
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

/**
 * The worker's API to the orchestrator (WorkerApi), made of its parts: the
 * code it loaded (load-bundle.ts, env.ts), the entry Worker (entry-host.ts),
 * the Durable Object it hosts (object-host.ts), the WebSocket handles
 * (worker-sockets.ts), and the direct lines from and to other workers
 * (peer-server.ts, peers.ts).
 */
class Isolate implements WorkerApi {
  readonly #gateway: Comlink.Remote<GatewayApi>;
  readonly #notify: (n: GatewayNotice) => void;
  #loaded: Loaded | null = null;
  readonly #sockets: WorkerSockets;
  readonly #entry: EntryHost;
  readonly #object: ObjectHost;
  /** This worker's own calls to objects on direct lines. */
  readonly #peers: Peers;
  /** Other workers' direct lines into this one. */
  readonly #lines: PeerServer;

  constructor(gateway: Comlink.Remote<GatewayApi>, notify: (n: GatewayNotice) => void) {
    this.#gateway = gateway;
    this.#notify = notify;
    this.#peers = new Peers(gateway, (reports) => notify({ notice: "direct", reports }));
    this.#sockets = new WorkerSockets(gateway);
    this.#entry = new EntryHost(gateway);
    const object = new ObjectHost(gateway, notify, this.#sockets);
    this.#object = object;
    this.#lines = new PeerServer({
      hosts: (id) => object.hosts(id),
      mayLeaveUnrun: () => !object.active || object.broken,
      fetch: (req, trace) => this.fetch(req, trace),
      rpc: (method, args, kind, trace) => this.rpc(method, args, kind, trace),
    });
    // Calls on stubs of this thread's functions and RpcTargets wait for the
    // object's input gate, and their answers leave through its output gate.
    setExportHooks({
      before: () => (object.active ? object.waitGate() : undefined),
      after: () => {
        object.active?.storage.flush();
        object.throwIfBroken();
      },
    });
    // Stubs held elsewhere to this thread's targets keep its object awake (the orchestrator counts them).
    setExportCountReport((open) => notify({ notice: "stubs", open }));
    const g = globalThis as Record<string, unknown>;
    g.WebSocketPair = this.#sockets.pairClass();
    g.WebSocketRequestResponsePair = WebSocketRequestResponsePair;
    g.Response = WorkersResponse;
  }

  async load(spec: CodeSpec): Promise<{ classes: string[] }> {
    if (this.#loaded?.spec.bundlePath === spec.bundlePath)
      return { classes: exportedClasses(this.#loaded.module) };
    this.#sockets.setCompatibility(spec.compatibilityDate, spec.compatibilityFlags);
    const env = buildEnv(spec, this.#gateway, this.#peers, this.#sockets.clientSocket);
    const object = this.#object;
    const entry = this.#entry;
    this.#loaded = await loadBundle(spec, env, this.#gateway, (p) =>
      object.active ? object.active.extend(p) : entry.ctx.waitUntil(p),
    );
    return { classes: exportedClasses(this.#loaded.module) };
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
    await this.#object.become(identity, Ctor, loaded);
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
    await this.#object.become(WARM_UP_IDENTITY, WarmUpObject, loaded);
    try {
      // A request the object answers without looking inside it, as the
      // warm-up must not load undici (fetch-classes.ts): an object that
      // never does should not pay for it.
      await this.fetch({
        url: "http://warm-up/?warm=true",
        method: "GET",
        headers: [["accept", "application/json"]],
        body: null,
      });
      await this.rpc("ping", [{ n: 1 }]);
    } finally {
      await this.deactivate();
    }
  }

  fetch(req: SerializedRequest, trace?: TraceContext): Promise<SerializedResponse> {
    return underTrace(trace, () => this.#fetch(req));
  }

  /** A request to the active object, or, with none, to the entry Worker. */
  async #fetch(req: SerializedRequest): Promise<SerializedResponse> {
    const loaded = this.#requireLoaded();
    await this.#object.waitGate();
    const request = deserializeRequest(req);
    const active = this.#object.active;
    const response = active
      ? await this.#object.fetch(active, request)
      : // Functions and RpcTargets the entry Worker passes out live as long as its request.
        await withExportContext(async () => this.#entry.fetch(loaded, request));
    if (!isResponse(response)) {
      throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    }
    const out = await serializeResponse(response, (ws) => this.#sockets.info(ws));
    if (out.stream && active) out.stream = this.#counted(out.stream);
    return Comlink.transfer(out, bodyTransfer(out));
  }

  /** Response bodies the active object is streaming, reported to the orchestrator (it keeps the object awake). */
  #openStreams = 0;

  /**
   * The object's streamed body, counted while it is open: piped through a
   * stream of ours, which passes on the reader's cancel (the client going
   * away) to the object's stream.
   */
  #counted(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    this.#notify({ notice: "streams", open: ++this.#openStreams });
    void stream
      .pipeTo(writable)
      .catch(() => {})
      .finally(() => this.#notify({ notice: "streams", open: --this.#openStreams }));
    return readable;
  }

  queue(
    queue: string,
    messages: DeliveredMessage[],
    metrics: BatchMetrics,
    trace?: TraceContext,
  ): Promise<QueueOutcome> {
    return underTrace(trace, () =>
      withExportContext(() => this.#entry.queue(this.#requireLoaded(), queue, messages, metrics)),
    );
  }

  async entrypoint(
    entrypoint: string | null,
    call: { fetch: SerializedRequest } | { method: string; args: RpcArgs; kind: "call" | "get" },
  ): Promise<unknown> {
    return this.#entry.entrypoint(this.#requireLoaded(), entrypoint, call);
  }

  email(from: string, to: string, raw: Uint8Array): Promise<EmailOutcome> {
    return this.#entry.email(this.#requireLoaded(), { from, to, raw });
  }

  scheduled(spec: ScheduledSpec, warning: string | null): Promise<ScheduledOutcome> {
    return this.#entry.scheduled(this.#requireLoaded(), spec, warning);
  }

  workflowRun(spec: WorkflowRunSpec): Promise<WorkflowRunResult> {
    return this.#entry.workflowRun(this.#requireLoaded(), spec);
  }

  /** The result's stubs (functions, RpcTargets) move to the caller with their ports. */
  async rpc(
    method: string,
    args: RpcArgs,
    kind: "call" | "get" = "call",
    trace?: TraceContext,
  ): Promise<unknown> {
    return withStubPorts(await underTrace(trace, () => this.#object.rpc(method, args, kind)));
  }

  alarm(info: AlarmInvocation, trace?: TraceContext): Promise<number | null> {
    return underTrace(trace, () => this.#object.alarm(info));
  }

  adminSql(sql: string, params: unknown[]): Promise<QueryResult> {
    return this.#object.adminSql(sql, params);
  }

  snapshotTo(dest: string): Promise<void> {
    return this.#object.snapshotTo(dest);
  }

  wsEvent(e: SocketEvent): Promise<void> {
    return this.#object.wsEvent(e);
  }

  leave(): void {
    this.#lines.leaving = true;
  }

  /** Closes every direct line into this worker, saying goodbye first (the worker is about to end). */
  closePeers(): void {
    this.#lines.closeAll();
  }

  connectPeer(port: MessagePort): void {
    this.#lines.connect(port);
  }

  /** What this worker's own calls on direct lines have not reported yet. */
  takeDirect(): DirectReport[] {
    return this.#peers.take();
  }

  /** Refuses direct calls and waits for those running, then lets the object go (ObjectHost.deactivate). */
  async deactivate(): Promise<void> {
    if (!this.#object.active) return;
    this.#lines.leaving = true;
    await this.#lines.drained();
    await this.#object.deactivate();
    this.#lines.leaving = false;
  }

  probe(): ObjectProbe | null {
    return this.#object.probe();
  }

  memory(): { heapUsed: number; rss: number } {
    const m = process.memoryUsage();
    return { heapUsed: m.heapUsed, rss: m.rss };
  }

  #requireLoaded(): Loaded {
    if (!this.#loaded) throw new Error("worker has no code loaded");
    return this.#loaded;
  }
}
