import type { AssetsSpec } from "../assets/asset-server.ts";
import type { MockSpec } from "../bindings/mock-fetch.ts";
import type { MockCall } from "../shared/events.ts";
import type { BatchMetrics, DeliveredMessage, OutgoingMessage, QueueOutcome } from "../bindings/queue.ts";
import type { RemoteOnlySpec } from "../bindings/remote-only.ts";
import type { SerializedError } from "../shared/comlink-node.ts";
import type { SerializedRequest, SerializedResponse } from "../shared/http-wire.ts";
import type { QueryResult } from "../shared/sql-query.ts";
import type { WorkflowCall, WorkflowRunResult, WorkflowRunSpec } from "../bindings/workflow-calls.ts";
import type { ObjectProbe } from "./probe.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import type { RpcArgs } from "../shared/rpc-wire.ts";

export type { SerializedRequest, SerializedResponse, SocketInfo } from "../shared/http-wire.ts";

/** A hibernatable socket as the orchestrator keeps it while its object sleeps. */
export interface HeldSocket {
  id: string;
  tags: string[];
  attachment: unknown;
  /** When the orchestrator last auto-responded on it (ctx.getWebSocketAutoResponseTimestamp). */
  autoResponseAt: number | null;
}

export type SocketEvent =
  /** autoResponseAt: as HeldSocket's, so the handler reads the latest auto-response time. */
  | { type: "message"; id: string; data: string | ArrayBuffer; autoResponseAt?: number | null }
  /**
   * replied: the runtime answered the peer's close frame (the socket is
   * CLOSED in the handler); false leaves it CLOSING until the handler, or
   * later code, calls ws.close().
   */
  | { type: "close"; id: string; code: number; reason: string; wasClean: boolean; replied?: boolean }
  | { type: "error"; id: string; message: string };

export interface BindingSpec {
  binding: string;
  className: string;
  /** Set for a class of another Worker (`script_name`): ids derive from its name. */
  scriptName?: string;
}

/** Everything a worker needs to load one version of the project's code. */
export interface CodeSpec {
  bundlePath: string;
  workerName: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  durableObjects: BindingSpec[];
  vars: Record<string, unknown>;
  eventBusBinding: string | null;
  /** D1 bindings: each a SQLite file in the data directory, shared by every worker. */
  d1Databases: { binding: string; path: string }[];
  /** R2 bindings: each a folder in the data directory. */
  r2Buckets: { binding: string; path: string }[];
  /** KV bindings: each a SQLite file in the data directory, shared by every worker. */
  kvNamespaces: { binding: string; path: string }[];
  /** Queue producers: `env.<binding>` sends to `queue` through the orchestrator's broker. */
  queueProducers: { binding: string; queue: string; deliveryDelay: number }[];
  /** Workflow bindings (wrangler's `workflows`): the class each runs, in the entry worker. */
  workflows: { binding: string; name: string; className: string }[];
  /** Analytics Engine datasets: data points go to the orchestrator's log. */
  analyticsEngine: import("../bindings/analytics-engine.ts").AnalyticsSpec[];
  /** Rate limiters (wrangler's `ratelimits`): counted in the orchestrator, shared by every worker. */
  rateLimits: import("../bindings/ratelimit.ts").RateLimitSpec[];
  /** `send_email` bindings: messages are checked in the worker and captured by the orchestrator. */
  sendEmail: import("../bindings/send-email.ts").SendEmailSpec[];
  /** Workers AI bindings answered by the local stand-in (terrarium.json `ai.standIn`), not remote-only. */
  aiStandIn: import("../bindings/ai-stand-in.ts").AiStandInSpec[];
  /** Bindings that run only on Cloudflare: present in env, failing clearly when used. */
  remoteOnly: RemoteOnlySpec[];
  /** Mock third-party endpoints (terrarium.json `mocks`) that outbound fetch answers from. */
  mocks: MockSpec[];
  /** The static assets' binding (wrangler's `assets.binding`); the worker reads the folder itself. */
  assets: { binding: string; spec: AssetsSpec } | null;
  /** Service bindings (`services`): calls go to the orchestrator, which finds the Worker. */
  services: { binding: string }[];
}

export interface ObjectIdentity {
  className: string;
  id: string;
  name: string | null;
  dbPath: string;
  /** The object's pending alarm, held by the State Manager. */
  alarm: number | null;
  /** Its hibernatable WebSockets, held open by the orchestrator. */
  sockets: HeldSocket[];
  /** How long a blockConcurrencyWhile callback may hold the object before it is reset (workerd: 30 s). */
  blockConcurrencyTimeoutMs: number;
}

export type LogLevel = "debug" | "log" | "info" | "warn" | "error";

export interface LogRecord {
  level: LogLevel;
  time: number;
  message: string;
  /** The traced span the line was written under (docs/traces.md). */
  trace?: TraceContext;
}

export interface AlarmInvocation {
  retryCount: number;
  isRetry: boolean;
  /** When the alarm was due, in ms since the epoch. */
  scheduledTime: number;
}

/** Exposed by an object's worker on a direct line to another worker (see runtime/host/peers.ts). */
export interface PeerApi {
  fetch(id: string, req: SerializedRequest, trace?: TraceContext): Promise<PeerReply<SerializedResponse>>;
  rpc(
    id: string,
    method: string,
    args: RpcArgs,
    kind: "call" | "get",
    trace?: TraceContext,
  ): Promise<PeerReply<unknown>>;
}

/**
 * The answer to a call on a direct line, with the record of the call (none
 * when the object was not there to run it). The caller reports the records
 * to the orchestrator in batches (runtime/host/peers.ts), so a call costs
 * the object's worker no message besides its answer.
 */
export type PeerReply<T> = { v: T; d: DirectRecord } | { e: SerializedError; d?: DirectRecord };

/** What a worker that calls objects on direct lines tells the orchestrator about one of them. */
export interface DirectReport {
  objectId: string;
  /** This caller has had a call to the object in flight for DIRECT_REPORT_MS (peers.ts) or more. */
  busy: boolean;
  /** Calls done since the last report. */
  records: DirectRecord[];
}

/** A call served on a direct line, reported to the orchestrator afterwards. */
export interface DirectRecord {
  time: number;
  durationMs: number;
  ok: boolean;
  kind: "fetch" | "rpc";
  cause: string;
  error?: string;
  /** For a traced call: its trace, its span (made by the callee) and the caller's span. */
  trace?: { t: string; s: string; p: string };
  /** For a traced fetch: its status. */
  status?: number;
}

/** Exposed by every worker thread on its parentPort. */
export interface WorkerApi {
  load(spec: CodeSpec): Promise<{ classes: string[] }>;
  activate(identity: ObjectIdentity): Promise<void>;
  /** Runs Terrarium's own object path once on a throwaway in-memory object (no project code). */
  warm(): Promise<void>;
  /** `trace`: the span the fetch runs under (docs/traces.md); absent, it is not traced. */
  fetch(req: SerializedRequest, trace?: TraceContext): Promise<SerializedResponse>;
  /**
   * The entry Worker's `entrypoint` export (null: the default one) answers a
   * service binding: its fetch(), or, with `method`, an RPC call (kind
   * "get": a getter's value).
   */
  entrypoint(
    entrypoint: string | null,
    call: { fetch: SerializedRequest } | { method: string; args: RpcArgs; kind: "call" | "get" },
  ): Promise<unknown>;
  /** Calls a method (or, with kind "get", reads a getter) of the active object. */
  rpc(method: string, args: RpcArgs, kind?: "call" | "get", trace?: TraceContext): Promise<unknown>;
  /** Runs the entry Worker's queue() handler on a batch; resolves to what it decided about each message. */
  queue(
    queue: string,
    messages: DeliveredMessage[],
    metrics: BatchMetrics,
    trace?: TraceContext,
  ): Promise<QueueOutcome>;
  /** Runs alarm(); resolves to the alarm the handler left set (null: none). */
  alarm(info: AlarmInvocation, trace?: TraceContext): Promise<number | null>;
  /** Runs a statement from the Inspector's SQL box on the active object's database, between its events. */
  adminSql(sql: string, params: unknown[]): Promise<QueryResult>;
  /**
   * Writes a consistent copy of the object's database to `dest` (a new
   * file), between its events: what is committed, never half of a
   * synchronous run of writes.
   */
  snapshotTo(dest: string): Promise<void>;
  /** Refuses new calls on direct lines ("moved") until the object is deactivated. */
  leave(): void;
  /**
   * What this worker's direct-line calls to objects have not reported yet,
   * handed over in the reply (a notice on the gateway port could arrive
   * after it).
   */
  takeDirect(): DirectReport[];
  /** Closes the direct lines into this worker, saying goodbye on each (before a requested stop). */
  closePeers(): void;
  /** Serves calls to the active object on a direct line from another worker. */
  connectPeer(port: import("node:worker_threads").MessagePort): void;
  /** Delivers a WebSocket event to the socket's owner (handlers or listeners). */
  wsEvent(e: SocketEvent): Promise<void>;
  deactivate(): Promise<void>;
  /**
   * Runs the entry Worker's email() handler on an incoming message (entry
   * workers; POST /cdn-cgi/handler/email); answers the status and text the
   * trigger request gets (runtime/bindings/incoming-email.ts).
   */
  email(
    from: string,
    to: string,
    raw: Uint8Array,
  ): Promise<import("../bindings/incoming-email.ts").EmailOutcome>;
  /**
   * Runs the entry Worker's scheduled() handler as a cron trigger would
   * (entry workers; GET or POST /cdn-cgi/handler/scheduled); answers the
   * trigger's status and body (runtime/bindings/scheduled.ts). `warning`
   * is logged in the Worker's logs first (the deprecated trigger path).
   */
  scheduled(
    spec: import("../bindings/scheduled.ts").ScheduledSpec,
    warning: string | null,
  ): Promise<import("../bindings/scheduled.ts").ScheduledOutcome>;
  /** Runs one run of a Workflow instance (entry workers): `run(event, step)`, its steps recorded through GatewayApi.workflow. */
  workflowRun(spec: WorkflowRunSpec): Promise<WorkflowRunResult>;
  memory(): { heapUsed: number; rss: number };
  /** What the active object holds that keeps it awake, and its fields; null when no object is active. */
  probe(): ObjectProbe | null;
}

/**
 * Exposed by the orchestrator to each worker (on the port in workerData):
 * what object code reaches outside itself through `env` and `ctx`.
 */
export interface GatewayApi {
  objectFetch(
    binding: string,
    id: string,
    name: string | null,
    req: SerializedRequest,
    trace?: TraceContext,
  ): Promise<SerializedResponse>;
  objectRpc(
    binding: string,
    id: string,
    name: string | null,
    method: string,
    args: RpcArgs,
    kind?: "call" | "get",
    trace?: TraceContext,
  ): Promise<unknown>;
  /** A call on a service binding (`env.SVC.fetch()` or an RPC method), to the Worker it names. */
  serviceFetch(binding: string, req: SerializedRequest): Promise<SerializedResponse>;
  serviceRpc(binding: string, method: string, args: RpcArgs, kind: "call" | "get"): Promise<unknown>;
  publish(topic: string, data: unknown, trace?: TraceContext): Promise<{ id: number }>;
  /** Persists messages a producer sent; resolves with the queue's backlog before them. */
  queueSend(queue: string, messages: OutgoingMessage[], trace?: TraceContext): Promise<BatchMetrics>;
  /** A Workflows call: the binding's, an instance's, or a running instance's step (runtime/workflows). */
  workflow(call: WorkflowCall): Promise<unknown>;
  /** A message a send_email binding sent: kept by the orchestrator, never sent. */
  email(message: import("../bindings/send-email.ts").CapturedEmail): Promise<void>;
  /** A data point an Analytics Engine dataset was given (not answered). */
  dataPoint(point: import("../bindings/analytics-engine.ts").DataPoint): void;
  /** Counts a rate limiter's call for a key; false when over its limit (runtime/bindings/ratelimit.ts). */
  rateLimit(binding: string, key: string, limit: number, period: number): Promise<boolean>;
  setAlarm(time: number | null): Promise<void>;
  getAlarm(): Promise<number | null>;
  log(records: LogRecord[]): void;
  /** A call a mock endpoint (terrarium.json `mocks`) answered. */
  mockCall(call: MockCall, trace?: TraceContext): void;
  /** A direct line to an object's worker, or null when it is not live. */
  peer(binding: string, id: string): Promise<import("node:worker_threads").MessagePort | null>;
  /** Calls this worker made on direct lines, by object. */
  direct(reports: DirectReport[]): void;
  /** SQL rows an object read and wrote (see the "rows" notice). */
  rows(objectId: string, read: number, written: number): void;
  /** How many response bodies the worker's object is streaming now (see the "streams" notice). */
  streams(open: number): void;
  /** How many stubs to the worker's functions and RpcTargets are held elsewhere now (see the "stubs" notice). */
  heldStubs(open: number): void;
  /** The worker's object broke itself (a blockConcurrencyWhile callback threw) with this error: reset it. */
  broken(error: Error): void;
  /** Why an object's worker ended under calls on a direct line, as the orchestrator's path says it (null: unknown). */
  lostWhy(id: string): Promise<string | null>;
  wsSend(id: string, data: string | ArrayBuffer): void;
  wsClose(id: string, code: number | undefined, reason: string | undefined): void;
  wsAccept(id: string, info: { hibernatable: boolean; tags: string[]; autoReplyToClose?: boolean }): void;
  wsAttach(id: string, value: unknown): void;
  wsAutoResponse(pair: { request: string; response: string } | null): void;
  /**
   * The client end of an object's WebSocket, which this worker got from a
   * stub's fetch, was accepted here: the object's sends and close come to
   * this worker as socket events, and this worker's go to the object.
   */
  wsHold(id: string): void;
  wsClientSend(id: string, data: string | ArrayBuffer): void;
  wsClientClose(id: string, code: number | undefined, reason: string | undefined): void;
  waitUntilSettled(count: number): void;
}

/**
 * A one-way message a worker posts on its gateway port beside Comlink's
 * calls: no reply comes back, so it costs the worker no second wake-up.
 * Comlink's listener ignores it (it has no Comlink message type).
 */
export type GatewayNotice =
  | { notice: "log"; records: LogRecord[] }
  | { notice: "direct"; reports: DirectReport[] }
  /** SQL rows an object read and wrote through ctx.storage.sql since the last notice (for the cost of a run). */
  | { notice: "rows"; objectId: string; read: number; written: number }
  /** The active object's open streamed response bodies changed: it stays awake while one is open, as on workerd. */
  | { notice: "streams"; open: number }
  /**
   * The worker's open RPC exports (stubs to its functions and RpcTargets held
   * elsewhere, not yet disposed) changed: its object stays awake while one is
   * open, as on workerd. Sent only on a change, at most once a turn.
   */
  | { notice: "stubs"; open: number }
  /** A blockConcurrencyWhile callback threw: the object must be reset (the worker ended). */
  | { notice: "broken"; error: SerializedError };

export function isGatewayNotice(m: unknown): m is GatewayNotice {
  return typeof m === "object" && m !== null && "notice" in m;
}
