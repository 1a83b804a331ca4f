import type { MessagePort } from "node:worker_threads";
import * as Comlink from "comlink";
import { LeanClient } from "../shared/lean-rpc.ts";
import { bodyTransfer } from "./http-serialize.ts";
import type { GatewayApi, PeerApi, SerializedRequest, SerializedResponse } from "./protocol.ts";

/** Calls to one object go direct after this many through the orchestrator. */
const CONNECT_AFTER = 2;
const MAX_PEERS = 1024;

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
 * that port, and the object's worker reports its activity to the
 * orchestrator in batches. A call the target refuses ("moved") falls back
 * to the orchestrator, which remains the authority on where an object lives.
 */
export class Peers {
  readonly #gateway: Comlink.Remote<GatewayApi>;
  readonly #peers = new Map<string, Peer>();
  readonly #calls = new Map<string, number>();

  constructor(gateway: Comlink.Remote<GatewayApi>) {
    this.#gateway = gateway;
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
    if (peer) {
      try {
        // NOTE: not transferred: if the target says "moved", the body is sent again.
        return await this.#call(
          peer,
          (c) => c.call<SerializedResponse>("fetch", [id, req] satisfies Parameters<PeerApi["fetch"]>),
          () => this.#gateway.objectFetch(binding, id, name, req),
        );
      } catch (e) {
        if (!isMoved(e)) throw e;
        this.#retire(id, peer);
      }
    }
    const res = await this.#gateway.objectFetch(binding, id, name, Comlink.transfer(req, bodyTransfer(req)));
    this.#connectIfHot(binding, id);
    return res;
  }

  async rpc(
    binding: string,
    id: string,
    name: string | null,
    method: string,
    args: unknown[],
    kind: "call" | "get",
  ): Promise<unknown> {
    const peer = this.#peers.get(id);
    if (peer) {
      try {
        return await this.#call(
          peer,
          (c) => c.call("rpc", [id, method, args, kind] satisfies Parameters<PeerApi["rpc"]>),
          () => this.#gateway.objectRpc(binding, id, name, method, args, kind),
        );
      } catch (e) {
        if (!isMoved(e)) throw e;
        this.#retire(id, peer);
      }
    }
    const result = await this.#gateway.objectRpc(binding, id, name, method, args, kind);
    this.#connectIfHot(binding, id);
    return result;
  }

  #call<T>(peer: Peer, fn: (c: LeanClient) => Promise<T>, viaOrchestrator: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { reject, retry: () => viaOrchestrator().then(resolve, reject) };
      peer.pending.add(entry);
      const settle = (): void => {
        peer.pending.delete(entry);
        if (peer.retired && peer.pending.size === 0) peer.port.close();
      };
      fn(peer.client).then(
        (v) => {
          settle();
          resolve(v);
        },
        (e: unknown) => {
          settle();
          reject(e as Error);
        },
      );
    });
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
      const err = new Error("the Durable Object's worker ended while the call was in flight");
      const pending = [...peer.pending];
      peer.pending.clear();
      for (const p of pending) {
        if (peer.bye) p.retry();
        else p.reject(err);
      }
      this.#retire(id, peer);
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
