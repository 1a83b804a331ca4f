import type { MessagePort } from "node:worker_threads";
import * as Comlink from "comlink";
import { deserializeError } from "../shared/comlink-node.ts";
import { LeanClient } from "../shared/lean-rpc.ts";
import { isStubEnvelope, withStubPorts, type RpcArgs } from "../shared/rpc-wire.ts";
import { bodyTransfer } from "./http-serialize.ts";
import { currentTrace } from "./trace-scope.ts";
import type {
  DirectRecord,
  DirectReport,
  GatewayApi,
  PeerApi,
  PeerReply,
  SerializedRequest,
  SerializedResponse,
} from "./protocol.ts";

/** Calls to one object go direct after this many through the orchestrator. */
const CONNECT_AFTER = 2;
const MAX_PEERS = 1024;
/** How often the calls made on direct lines are reported to the orchestrator, at most. */
const DIRECT_REPORT_MS = 20;

/** Calls in flight to one object on direct lines. */
interface Flight {
  count: number;
  /** When the count last went from 0 to 1. */
  since: number;
}

interface Pending {
  reject: (e: Error) => void;
  /** The same call through the orchestrator, for calls the target never ran. */
  retry: () => void;
}

interface Peer {
  client: LeanClient;
  port: MessagePort;
  pending: Set<Pending>;
  /** The target said goodbye before closing: nothing pending on this line ran there. */
  bye: boolean;
  /** Out of the directory; the port closes once nothing is pending on it. */
  retired: boolean;
}

/** Sent by a worker on each of its direct lines before it closes them on purpose. */
export const BYE = "terrarium:bye";

/** The target no longer hosts that object (it hibernated, moved or was updated): go through the orchestrator. */
function isMoved(e: unknown): boolean {
  return e instanceof Error && e.message.startsWith("TerrariumMoved");
}

/**
 * Direct lines from this worker to the workers of objects it calls often.
 * The first calls to an object go through the orchestrator (which wakes it,
 * tracks it, and may hand back a MessagePort to its worker); later calls use
 * that port. A call the target refuses ("moved") falls back to the
 * orchestrator, which remains the authority on where an object lives.
 *
 * The orchestrator learns what ran on direct lines from the callers: each
 * answer carries the call's record, and this worker reports the records
 * for all the objects it called at most every DIRECT_REPORT_MS, in one
 * message, with the objects it has had a call in flight to for that long
 * (busy: for the CPU watchdog, which thus also sees an object that spins
 * on a direct call, and so that a busy object is not taken for idle).
 */
export class Peers {
  readonly #gateway: Comlink.Remote<GatewayApi>;
  readonly #report: (reports: DirectReport[]) => void;
  readonly #peers = new Map<string, Peer>();
  readonly #calls = new Map<string, number>();
  readonly #flights = new Map<string, Flight>();
  #records = new Map<string, DirectRecord[]>();
  /** Objects last reported busy. */
  readonly #busy = new Set<string>();
  #timer: NodeJS.Timeout | null = null;

  constructor(gateway: Comlink.Remote<GatewayApi>, report: (reports: DirectReport[]) => void) {
    this.#gateway = gateway;
    this.#report = report;
  }

  async fetch(
    binding: string,
    id: string,
    name: string | null,
    req: SerializedRequest,
  ): Promise<SerializedResponse> {
    // WebSocket upgrades always go through the orchestrator, which keeps the sockets.
    const upgrade = req.headers.some(
      ([k, v]) => k.toLowerCase() === "upgrade" && v.toLowerCase() === "websocket",
    );
    const peer = upgrade ? undefined : this.#peers.get(id);
    const trace = currentTrace();
    if (peer) {
      try {
        // NOTE: not transferred: if the target says "moved", the body is sent again.
        return await this.#call(
          id,
          peer,
          (c) =>
            c.call<PeerReply<SerializedResponse>>("fetch", [id, req, trace] satisfies Parameters<
              PeerApi["fetch"]
            >),
          () => this.#gateway.objectFetch(binding, id, name, req, trace),
        );
      } catch (e) {
        if (!isMoved(e)) throw e;
        this.#retire(id, peer);
      }
    }
    const res = await this.#gateway.objectFetch(
      binding,
      id,
      name,
      Comlink.transfer(req, bodyTransfer(req)),
      trace,
    );
    this.#connectIfHot(binding, id);
    return res;
  }

  async rpc(
    binding: string,
    id: string,
    name: string | null,
    method: string,
    args: RpcArgs,
    kind: "call" | "get",
  ): Promise<unknown> {
    // Arguments holding stubs go through the orchestrator: their ports are
    // transferred, so they could not be sent again if the target said "moved".
    if (isStubEnvelope(args))
      return this.#gateway.objectRpc(binding, id, name, method, withStubPorts(args), kind, currentTrace());
    const peer = this.#peers.get(id);
    const trace = currentTrace();
    if (peer) {
      try {
        return await this.#call(
          id,
          peer,
          (c) =>
            c.call<PeerReply<unknown>>("rpc", [id, method, args, kind, trace] satisfies Parameters<
              PeerApi["rpc"]
            >),
          () => this.#gateway.objectRpc(binding, id, name, method, args, kind, trace),
        );
      } catch (e) {
        if (!isMoved(e)) throw e;
        this.#retire(id, peer);
      }
    }
    const result = await this.#gateway.objectRpc(binding, id, name, method, args, kind, trace);
    this.#connectIfHot(binding, id);
    return result;
  }

  #call<T>(
    id: string,
    peer: Peer,
    fn: (c: LeanClient) => Promise<PeerReply<T>>,
    viaOrchestrator: () => Promise<T>,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const flight = this.#begin(id);
      let settled = false;
      const settle = (record: DirectRecord | undefined): void => {
        if (settled) return;
        settled = true;
        peer.pending.delete(entry);
        if (peer.retired && peer.pending.size === 0) peer.port.close();
        this.#end(id, flight, record);
      };
      // If the line closes under the call, its answer never comes: settled here instead.
      const entry: Pending = {
        reject: (e) => {
          settle(undefined);
          reject(e);
        },
        retry: () => {
          settle(undefined);
          viaOrchestrator().then(resolve, reject);
        },
      };
      peer.pending.add(entry);
      fn(peer.client).then(
        (reply) => {
          settle(reply.d);
          if ("e" in reply) reject(deserializeError(reply.e));
          else resolve(reply.v);
        },
        (e: unknown) => {
          settle(undefined);
          reject(e as Error);
        },
      );
    });
  }

  // ---- what ran on direct lines, for the orchestrator ----

  #begin(id: string): Flight {
    let flight = this.#flights.get(id);
    if (!flight) {
      flight = { count: 0, since: performance.now() };
      this.#flights.set(id, flight);
    }
    flight.count++;
    this.#arm();
    return flight;
  }

  #end(id: string, flight: Flight, record: DirectRecord | undefined): void {
    if (--flight.count === 0 && this.#flights.get(id) === flight) this.#flights.delete(id);
    if (record) {
      const list = this.#records.get(id);
      if (list) list.push(record);
      else this.#records.set(id, [record]);
    }
  }

  #arm(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const reports = this.take();
      if (reports.length > 0) this.#report(reports);
    }, DIRECT_REPORT_MS);
  }

  /** The reports due now: records since the last ones, and every change of an object's busy flag. */
  take(): DirectReport[] {
    const now = performance.now();
    const reports: DirectReport[] = [];
    const isBusy = (id: string): boolean => {
      const f = this.#flights.get(id);
      return f !== undefined && now - f.since >= DIRECT_REPORT_MS;
    };
    for (const [objectId, records] of this.#records) {
      const busy = isBusy(objectId);
      reports.push({ objectId, busy, records });
      if (busy) this.#busy.add(objectId);
      else this.#busy.delete(objectId);
    }
    for (const objectId of this.#flights.keys()) {
      if (this.#records.has(objectId) || this.#busy.has(objectId) || !isBusy(objectId)) continue;
      reports.push({ objectId, busy: true, records: [] });
      this.#busy.add(objectId);
    }
    for (const objectId of this.#busy) {
      if (this.#records.has(objectId) || isBusy(objectId)) continue;
      reports.push({ objectId, busy: false, records: [] });
      this.#busy.delete(objectId);
    }
    this.#records = new Map();
    // Calls still in flight (or reported busy) are looked at again.
    if (this.#flights.size > 0 || this.#busy.size > 0) this.#arm();
    return reports;
  }

  #connectIfHot(binding: string, id: string): void {
    if (this.#peers.has(id)) return;
    const n = (this.#calls.get(id) ?? 0) + 1;
    if (this.#calls.size > 10_000) this.#calls.clear();
    this.#calls.set(id, n);
    if (n !== CONNECT_AFTER) return;
    void this.#gateway.peer(binding, id).then(
      (port) => {
        if (port) this.#add(id, port);
        else this.#calls.delete(id);
      },
      () => this.#calls.delete(id),
    );
  }

  #add(id: string, port: MessagePort): void {
    const existing = this.#peers.get(id);
    if (existing) this.#retire(id, existing);
    if (this.#peers.size >= MAX_PEERS) {
      const [oldestId, oldest] = this.#peers.entries().next().value ?? [];
      if (oldestId !== undefined && oldest) this.#retire(oldestId, oldest);
    }
    const peer: Peer = {
      client: new LeanClient(port),
      port,
      pending: new Set(),
      bye: false,
      retired: false,
    };
    port.on("message", (m: unknown) => {
      if (m === BYE) peer.bye = true;
    });
    port.on("close", () => {
      // A goodbye means the target closed the line on purpose with no object
      // active: whatever is still pending never ran, so it goes through the
      // orchestrator. Without one, the worker died under the calls.
      const pending = [...peer.pending];
      peer.pending.clear();
      this.#retire(id, peer);
      if (peer.bye) {
        for (const p of pending) p.retry();
      } else if (pending.length > 0) {
        // The orchestrator knows why (the CPU limit, a crash) and says it as on its own path.
        const generic = "the Durable Object's worker ended while the call was in flight";
        void this.#gateway.lostWhy(id).then(
          (why) => pending.forEach((p) => p.reject(new Error(why ?? generic))),
          () => pending.forEach((p) => p.reject(new Error(generic))),
        );
      }
    });
    this.#peers.set(id, peer);
  }

  /**
   * Takes a line out of the directory. Its port stays open until every call
   * on it has its answer (a call still running over there must not lose its
   * reply, or it would be sent again).
   */
  #retire(id: string, peer: Peer): void {
    if (this.#peers.get(id) === peer) {
      this.#peers.delete(id);
      this.#calls.delete(id);
    }
    peer.retired = true;
    if (peer.pending.size === 0) peer.port.close();
  }
}
