import type { MessagePort } from "node:worker_threads";
import type { ObjectRecord } from "../registry/registry.ts";
import type { Clock } from "../shared/clock.ts";
import type { EngineEvents } from "../shared/events.ts";
import type { StateManager } from "../state/state-manager.ts";
import type { TraceStore } from "../state/traces.ts";
import type { WorkflowCall } from "../bindings/workflow-calls.ts";
import type { DataPoint } from "../bindings/analytics-engine.ts";
import type { CapturedEmail } from "../bindings/send-email.ts";
import type {
  DirectReport,
  GatewayApi,
  LogRecord,
  SerializedRequest,
  SerializedResponse,
} from "../host/protocol.ts";
import type { WorkerHost } from "../host/worker-host.ts";
import type { ObjectSockets, SocketOwner } from "./sockets.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import { withStubPorts, type RpcArgs } from "../shared/rpc-wire.ts";
import type { ObjectLogs } from "./logs.ts";
import { logToTrace, mockSpan } from "./tracing.ts";

/** How long the reason an object's worker was lost is kept for its callers on direct lines. */
export const LOST_WHY_MS = 10_000;

/** Publishes an event on the project's Event Bus, from the object that sent it (null: the entry Worker). */
export type Publish = (
  topic: string,
  data: unknown,
  from: ObjectRecord | null,
  trace?: TraceContext,
) => Promise<{ id: number }>;

/**
 * What the engine lends a Worker's workers through the gateway. Each is
 * optional: one left out is refused with a reason (publish, queueSend,
 * workflow, email), allowed (rateLimit) or dropped (dataPoint, rows).
 */
export interface WorkerServices {
  /** The Event Bus's publish; without one, a worker's publish is refused. */
  publish?: Publish | undefined;
  /** The Queues broker's send; without one, a producer's send is refused. */
  queueSend?: GatewayApi["queueSend"] | undefined;
  /** The project's Workflows; without them, a workflow call is refused. */
  workflow?: ((call: WorkflowCall) => Promise<unknown>) | undefined;
  /** Told the SQL rows each object reads and writes. */
  rows?: ((objectId: string, read: number, written: number) => void) | undefined;
  /** Rate limiters' counts; without them every call is allowed. */
  rateLimit?: ((binding: string, key: string, limit: number, period: number) => boolean) | undefined;
  /** Keeps Analytics Engine data points; without it they are dropped. */
  dataPoint?: ((point: DataPoint) => void) | undefined;
  /** Keeps a send_email message (the outbox); without one, sends fail saying so. */
  email?: ((message: CapturedEmail) => Promise<void>) | undefined;
}

/** Every service of WorkerServices, those left out standing in as it says. */
export type Services = { readonly [K in keyof WorkerServices]-?: NonNullable<WorkerServices[K]> };

/** The services the engine gave, with the stand-ins for those it left out. */
export function servicesOf(s: WorkerServices): Services {
  return {
    publish:
      s.publish ??
      (() => Promise.reject(new Error("this project has no event bus (declare one in terrarium.json)"))),
    queueSend: s.queueSend ?? (() => Promise.reject(new Error("this project has no queues"))),
    workflow: s.workflow ?? (() => Promise.reject(new Error("this project declares no workflows"))),
    rows: s.rows ?? (() => {}),
    rateLimit: s.rateLimit ?? (() => true),
    dataPoint: s.dataPoint ?? (() => {}),
    email: s.email ?? (() => Promise.reject(new Error("send_email: this project keeps no outbox"))),
  };
}

/** The worker a gateway serves, and the object it runs now (null: an entry Worker's, or a free one). */
export interface GatewaySlot<L extends GatewayObject> {
  readonly host: WorkerHost;
  readonly object: L | null;
}

export interface GatewayObject {
  readonly record: ObjectRecord;
  readonly host: WorkerHost | null;
  /** Response bodies the object is streaming (it does not hibernate meanwhile). */
  streams: number;
  /** Stubs to the object's functions and RpcTargets held elsewhere (it does not hibernate meanwhile). */
  heldStubs: number;
}

/** The calls a worker makes to objects and to other Workers (calls.ts). */
export interface GatewayCalls {
  /** A call to an object, through another Worker's Lifecycle Manager when the binding leads there. */
  objectFetch(
    binding: string,
    id: string,
    name: string | null,
    req: SerializedRequest,
    caller: ObjectRecord | null,
    trace?: TraceContext,
  ): Promise<SerializedResponse>;
  objectRpc(
    binding: string,
    id: string,
    name: string | null,
    method: string,
    args: RpcArgs,
    caller: ObjectRecord | null,
    kind?: "call" | "get",
    trace?: TraceContext,
  ): Promise<unknown>;
  serviceFetch: GatewayApi["serviceFetch"];
  serviceRpc: GatewayApi["serviceRpc"];
}

/** What the main-thread gateway needs of the Lifecycle Manager. */
export interface GatewayHub<L extends GatewayObject> {
  readonly state: Pick<StateManager, "setAlarm" | "alarms">;
  readonly clock: Clock;
  readonly events: EngineEvents;
  readonly sockets: ObjectSockets;
  /** When and why an object's worker was lost, by object id. */
  readonly lostWhy: ReadonlyMap<string, { message: string; at: number }>;
  readonly services: Services;
  readonly calls: GatewayCalls;
  /** Direct lines between workers (direct-lines.ts). */
  readonly direct: {
    /** A direct line's port to the object, or null (another Worker's objects get none). */
    peer(binding: string, id: string): Promise<MessagePort | null>;
    record(caller: WorkerHost, reports: DirectReport[]): void;
  };
  readonly logs: Pick<ObjectLogs, "write">;
  /** Where spans and traced log lines go (docs/traces.md); null: nothing is traced. */
  readonly tracer: TraceStore | null;
  /** The object's worker is broken: it is lost (its in-memory state goes, its storage stays). */
  lose(live: L, host: WorkerHost, cause: string): Promise<void>;
}

/** The main-thread side a worker calls: its object's alarms, logs, sockets, bindings and calls to other objects. */
export function buildGateway<L extends GatewayObject>(slot: GatewaySlot<L>, hub: GatewayHub<L>): GatewayApi {
  const caller = (): ObjectRecord | null => slot.object?.record ?? null;
  return {
    objectFetch: async (binding, id, name, req, trace) =>
      hub.calls.objectFetch(binding, id, name, req, caller(), trace),
    // A result holding stubs passes its ports on to the caller (runtime/shared/rpc-wire.ts).
    objectRpc: async (binding, id, name, method, args, kind, trace) =>
      withStubPorts(await hub.calls.objectRpc(binding, id, name, method, args, caller(), kind, trace)),
    serviceFetch: (binding, req) => hub.calls.serviceFetch(binding, req),
    serviceRpc: async (binding, method, args, kind) =>
      withStubPorts(await hub.calls.serviceRpc(binding, method, args, kind)),
    publish: (topic, data, trace) => hub.services.publish(topic, data, caller(), trace),
    queueSend: (queue, messages, trace) => hub.services.queueSend(queue, messages, trace),
    workflow: (call) => hub.services.workflow(call),
    rateLimit: async (binding, key, limit, period) => hub.services.rateLimit(binding, key, limit, period),
    dataPoint: (point) => hub.services.dataPoint(point),
    email: (message) => hub.services.email(message),
    setAlarm: async (time) => {
      const rec = caller();
      if (rec) hub.state.setAlarm(rec.id, rec.className, time);
    },
    getAlarm: async () => {
      const rec = caller();
      return rec ? (hub.state.alarms(rec.id)[0]?.time ?? null) : null;
    },
    log: (records: LogRecord[]) => {
      const rec = caller();
      for (const r of records) {
        hub.logs.write(rec, r.level, r.message, r.time, slot.object ? undefined : "entry");
        if (r.trace) logToTrace(hub.tracer, rec, r as LogRecord & { trace: TraceContext });
      }
    },
    mockCall: (call, trace) => {
      const rec = caller();
      hub.events.emit("mock", { ...call, objectId: rec?.id ?? null, className: rec?.className ?? null });
      if (trace) mockSpan(hub.tracer, rec, call, trace);
    },
    waitUntilSettled: () => {},
    wsSend: (id, data) => hub.sockets.send(id, data),
    wsClose: (id, code, reason) => hub.sockets.close(id, code, reason),
    wsAccept: (id, info) => {
      const rec = caller();
      const owner: SocketOwner = rec
        ? { kind: "object", objectId: rec.id, className: rec.className }
        : { kind: "entry", host: slot.host };
      hub.sockets.accepted(id, owner, info);
    },
    wsAttach: (id, value) => hub.sockets.attach(id, value),
    peer: async (binding, id) => hub.direct.peer(binding, id),
    direct: (reports) => hub.direct.record(slot.host, reports),
    rows: (objectId, read, written) => hub.services.rows(objectId, read, written),
    streams: (open) => {
      const live = slot.object;
      if (live && live.host === slot.host) live.streams = open;
    },
    heldStubs: (open) => {
      const live = slot.object;
      if (live && live.host === slot.host) live.heldStubs = open;
    },
    broken: (error) => {
      const live = slot.object;
      const cause = `reset: ${error.name}: ${error.message}`;
      if (live && live.host === slot.host) void hub.lose(live, slot.host, cause);
      else void slot.host.stop();
    },
    lostWhy: async (id) => {
      const lost = hub.lostWhy.get(id);
      return lost && hub.clock.now() - lost.at < LOST_WHY_MS ? lost.message : null;
    },
    wsAutoResponse: (pair) => {
      const rec = caller();
      if (rec) hub.sockets.setAutoResponse(rec.id, pair);
    },
    wsHold: (id) => hub.sockets.hold(id, { kind: "entry", host: slot.host }),
    wsClientSend: (id, data) => hub.sockets.clientSend(id, data),
    wsClientClose: (id, code, reason) => hub.sockets.clientClose(id, code, reason),
  };
}
