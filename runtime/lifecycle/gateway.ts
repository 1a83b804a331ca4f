import type { MessagePort } from "node:worker_threads";
import type { ObjectRecord } from "../registry/registry.ts";
import type { Clock } from "../shared/clock.ts";
import type { EngineEvents } from "../shared/events.ts";
import type { StateManager } from "../state/state-manager.ts";
import type {
  DirectReport,
  GatewayApi,
  LogRecord,
  SerializedRequest,
  SerializedResponse,
} from "../host/protocol.ts";
import type { WorkerHost } from "../host/worker-host.ts";
import type { ObjectSockets, SocketOwner } from "./sockets.ts";
import type { MockCall } from "../shared/events.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import { withStubPorts, type RpcArgs } from "../shared/rpc-wire.ts";

/** How long the reason an object's worker was lost is kept for its callers on direct lines. */
export const LOST_WHY_MS = 10_000;

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
}

/**
 * What the main-thread gateway needs of the lifecycle manager. Every member
 * is read when the worker calls, so a binding the engine sets later (services,
 * rate limits, ...) is the one used.
 */
export interface GatewayHub<L extends GatewayObject> {
  readonly state: Pick<StateManager, "setAlarm" | "alarms">;
  readonly clock: Clock;
  readonly events: EngineEvents;
  readonly sockets: ObjectSockets;
  /** When and why an object's worker was lost, by object id. */
  readonly lostWhy: ReadonlyMap<string, { message: string; at: number }>;
  /** A call to an object, through another project's namespace when the binding leads there. */
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
  publish(
    topic: string,
    data: unknown,
    from: ObjectRecord | null,
    trace?: TraceContext,
  ): Promise<{ id: number }>;
  queueSend: GatewayApi["queueSend"];
  workflow: GatewayApi["workflow"];
  rateLimit(binding: string, key: string, limit: number, period: number): boolean;
  dataPoint: GatewayApi["dataPoint"];
  email: GatewayApi["email"];
  emitLog(rec: ObjectRecord | null, level: string, message: string, time: number, source?: string): void;
  /** A log line written under a traced span (docs/traces.md). */
  traceLog(rec: ObjectRecord | null, record: LogRecord & { trace: TraceContext }): void;
  /** An outbound fetch a mock endpoint answered during a traced event. */
  traceMock(rec: ObjectRecord | null, call: MockCall, trace: TraceContext): void;
  /** A direct line's port to the object, or null (another project's objects get none). */
  peer(binding: string, id: string): Promise<MessagePort | null>;
  direct(caller: WorkerHost, reports: DirectReport[]): void;
  rows(objectId: string, read: number, written: number): void;
  lose(live: L, host: WorkerHost, cause: string): Promise<void>;
}

/** The main-thread side a worker calls: its object's alarms, logs, sockets, bindings and calls to other objects. */
export function buildGateway<L extends GatewayObject>(slot: GatewaySlot<L>, hub: GatewayHub<L>): GatewayApi {
  const caller = (): ObjectRecord | null => slot.object?.record ?? null;
  return {
    objectFetch: async (binding, id, name, req, trace) =>
      hub.objectFetch(binding, id, name, req, caller(), trace),
    // A result holding stubs passes its ports on to the caller (runtime/shared/rpc-wire.ts).
    objectRpc: async (binding, id, name, method, args, kind, trace) =>
      withStubPorts(await hub.objectRpc(binding, id, name, method, args, caller(), kind, trace)),
    serviceFetch: (binding, req) => hub.serviceFetch(binding, req),
    serviceRpc: async (binding, method, args, kind) =>
      withStubPorts(await hub.serviceRpc(binding, method, args, kind)),
    publish: (topic, data, trace) => hub.publish(topic, data, caller(), trace),
    queueSend: (queue, messages, trace) => hub.queueSend(queue, messages, trace),
    workflow: (call) => hub.workflow(call),
    rateLimit: async (binding, key, limit, period) => hub.rateLimit(binding, key, limit, period),
    dataPoint: (point) => hub.dataPoint(point),
    email: (message) => hub.email(message),
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
        hub.emitLog(rec, r.level, r.message, r.time, slot.object ? undefined : "entry");
        if (r.trace) hub.traceLog(rec, r as LogRecord & { trace: TraceContext });
      }
    },
    mockCall: (call, trace) => {
      const rec = caller();
      hub.events.emit("mock", { ...call, objectId: rec?.id ?? null, className: rec?.className ?? null });
      if (trace) hub.traceMock(rec, call, trace);
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
    peer: async (binding, id) => hub.peer(binding, id),
    direct: (reports) => hub.direct(slot.host, reports),
    rows: (objectId, read, written) => hub.rows(objectId, read, written),
    streams: (open) => {
      const live = slot.object;
      if (live && live.host === slot.host) live.streams = open;
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
