import { newSpanId, type TraceContext } from "../shared/trace-context.ts";
import type { MessagePort } from "node:worker_threads";
import { errorText } from "../shared/errors.ts";
import { serializeError } from "../shared/comlink-node.ts";
import { serveLean } from "../shared/lean-rpc.ts";
import { stubPorts, type RpcArgs } from "../shared/rpc-wire.ts";
import { bodyTransfer, pathOf } from "./http-serialize.ts";
import { BYE } from "./peers.ts";
import type { DirectRecord, PeerApi, PeerReply, SerializedRequest, SerializedResponse } from "./protocol.ts";

/** What the direct lines into a worker need of it. */
export interface PeerTarget {
  /** Whether the object `id` is active here and able to take a call (not broken). */
  hosts(id: string): boolean;
  /** Whether a goodbye is safe: nothing that came on a line can have run (no object, or a broken one). */
  mayLeaveUnrun(): boolean;
  fetch(req: SerializedRequest, trace?: TraceContext): Promise<SerializedResponse>;
  rpc(method: string, args: RpcArgs, kind: "call" | "get", trace?: TraceContext): Promise<unknown>;
}

/**
 * The direct lines other workers opened into this one (their side is
 * runtime/host/peers.ts): each serves calls to the active object on the
 * lean protocol and answers with the call's record, which the caller
 * reports to the orchestrator. A call for an object this worker no longer
 * hosts, or while it is leaving, is refused as "moved", not run.
 */
export class PeerServer {
  readonly #target: PeerTarget;
  /** Set while the object is being deactivated: direct calls are refused ("moved"). */
  leaving = false;
  /** Calls running on direct lines. */
  #running = 0;
  readonly #ports = new Set<MessagePort>();

  constructor(target: PeerTarget) {
    this.#target = target;
  }

  /** Resolves once no call on a direct line is running. */
  async drained(): Promise<void> {
    while (this.#running > 0) await new Promise((r) => setTimeout(r, 2));
  }

  /** Closes every direct line into this worker, saying goodbye first (the worker is about to end). */
  closeAll(): void {
    for (const port of this.#ports) {
      // With no object active here nothing on these lines can have run, so
      // callers may safely send what is pending through the orchestrator;
      // the same once the object broke (a call arriving since was refused
      // unrun, and the pending ones go to its fresh instance).
      if (this.#target.mayLeaveUnrun()) port.postMessage(BYE);
      port.close();
    }
    this.#ports.clear();
  }

  connect(port: MessagePort): void {
    this.#ports.add(port);
    port.on("close", () => this.#ports.delete(port));
    const target = this.#target;
    const api: PeerApi = {
      fetch: (id, req, trace) =>
        this.#call(id, "fetch", `${req.method} ${pathOf(req.url)}`, trace, (span) => target.fetch(req, span)),
      rpc: (id, method, args, kind, trace) =>
        this.#call(id, "rpc", kind === "call" ? `rpc ${method}()` : `rpc get ${method}`, trace, (span) =>
          target.rpc(method, args, kind, span),
        ),
    };
    serveLean(port, { ...api }, (method, reply) => {
      // A streamed body, or the ports of the stubs a result holds, move to the caller.
      const v = (reply as { v?: unknown }).v;
      if (method === "rpc") return stubPorts(v);
      return v ? bodyTransfer(v as SerializedResponse) : [];
    });
  }

  /** Runs a call that came on a direct line, answering with its result (or error) and its record. */
  async #call<T>(
    id: string,
    kind: DirectRecord["kind"],
    cause: string,
    trace: TraceContext | undefined,
    fn: (span: TraceContext | undefined) => Promise<T>,
  ): Promise<PeerReply<T>> {
    // A broken object is being reset: the orchestrator starts a fresh one.
    if (!this.#target.hosts(id) || this.leaving) {
      const moved = new Error("the object is not here");
      moved.name = "TerrariumMoved";
      return { e: serializeError(moved) };
    }
    const start = performance.now();
    this.#running++;
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
      this.#running--;
    }
  }
}
