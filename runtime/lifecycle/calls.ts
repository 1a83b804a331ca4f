import * as Comlink from "comlink";
import { bodyTransfer, pathOf } from "../host/http-serialize.ts";
import type { SerializedRequest, SerializedResponse, WorkerApi } from "../host/protocol.ts";
import type { Namespaces, ObjectAddress } from "../registry/namespaces.ts";
import type { ObjectRecord } from "../registry/registry.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import type { GatewayCalls } from "./gateway.ts";
import type { Dispatch } from "./live.ts";
import type { ObjectSockets } from "./sockets.ts";

/** A terrarium.json route as the router matched it: the binding, and the object's name (a template). */
export interface MatchedRoute {
  binding: string;
  objectName: string;
  expand: (template: string) => string;
}

/** What the calls to objects need of the Lifecycle Manager. */
export interface CallDeps {
  /** The current code's bindings and ids (the manager replaces them with the code). */
  namespaces(): Pick<Namespaces, "classForBinding" | "byName" | "byId">;
  /** The shard a routed key goes to (sharding.ts: Sharding.target). */
  readonly sharding: {
    target(className: string, binding: string, base: string, expand: (template: string) => string): string;
  };
  readonly sockets: Pick<ObjectSockets, "claim">;
  /** Where this Worker's service bindings and bindings to other Workers' classes lead (workers.ts). */
  readonly links: Pick<GatewayCalls, "serviceFetch" | "serviceRpc"> & {
    foreign(
      binding: string,
    ): { lifecycle: Pick<GatewayCalls, "objectFetch" | "objectRpc">; binding: string } | null;
  };
  /** Runs one event on an object, waking or creating it first (LifecycleManager.run). */
  run<T>(
    d: Dispatch,
    fn: (api: Comlink.Remote<WorkerApi>, trace: TraceContext | undefined) => Promise<T>,
  ): Promise<T>;
}

/**
 * The calls that reach an object: a request the router routed to it, and
 * a stub's fetch or RPC method from a worker (through the gateway). Each
 * finds the object's class and id in the current code's namespaces, runs
 * the call as one event on the object, and hands a WebSocket its answer
 * carries to the socket hub. A binding to another Worker's class goes to
 * that Worker's Lifecycle Manager.
 */
export class ObjectCalls {
  readonly #deps: CallDeps;

  constructor(deps: CallDeps) {
    this.#deps = deps;
  }

  /**
   * A request the router matched to a terrarium.json route: the object the
   * route names through `binding` (or, for a sharded class, the shard its
   * key goes to), woken or created, answers it.
   */
  routedFetch(
    route: MatchedRoute,
    req: SerializedRequest,
    trace?: TraceContext,
  ): Promise<SerializedResponse> {
    const namespaces = this.#deps.namespaces();
    const className = namespaces.classForBinding(route.binding);
    const name = this.#deps.sharding.target(className, route.binding, route.objectName, route.expand);
    const { id } = namespaces.byName(route.binding, name);
    return this.#fetch({ className, id }, name, req, trace);
  }

  /** A stub's fetch: the object `idHex` of `binding`'s class. */
  async fetch(
    binding: string,
    idHex: string,
    name: string | null,
    req: SerializedRequest,
    trace?: TraceContext,
  ): Promise<SerializedResponse> {
    return this.#fetch(this.#deps.namespaces().byId(binding, idHex), name, req, trace);
  }

  /** A stub's RPC method call (or property get). */
  rpc(
    binding: string,
    idHex: string,
    name: string | null,
    method: string,
    args: unknown[],
    kind: "call" | "get" = "call",
    trace?: TraceContext,
  ): Promise<unknown> {
    const { className, id } = this.#deps.namespaces().byId(binding, idHex);
    const cause = kind === "call" ? `rpc ${method}()` : `rpc get ${method}`;
    return this.#deps.run({ className, id, name, kind: "rpc", cause, trace }, (api, span) =>
      api.rpc(method, args, kind, span),
    );
  }

  async #fetch(
    { className, id }: ObjectAddress,
    name: string | null,
    req: SerializedRequest,
    trace?: TraceContext,
  ): Promise<SerializedResponse> {
    const res = await this.#deps.run(
      { className, id, name, kind: "fetch", cause: `${req.method} ${pathOf(req.url)}`, trace },
      (api, span) => api.fetch(Comlink.transfer(req, bodyTransfer(req)), span),
    );
    if (res.webSocket) this.#deps.sockets.claim(res.webSocket, { kind: "object", objectId: id, className });
    return Comlink.transfer(res, bodyTransfer(res));
  }

  /** The calls as a worker's gateway makes them: a foreign binding's through that Worker's Lifecycle Manager. */
  forWorkers(): GatewayCalls {
    const links = this.#deps.links;
    return {
      objectFetch: (binding, id, name, req, _caller: ObjectRecord | null, trace) => {
        const f = links.foreign(binding);
        if (f) return f.lifecycle.objectFetch(f.binding, id, name, req, null, trace);
        return this.fetch(binding, id, name, req, trace);
      },
      objectRpc: (binding, id, name, method, args, _caller: ObjectRecord | null, kind, trace) => {
        const f = links.foreign(binding);
        if (f) return f.lifecycle.objectRpc(f.binding, id, name, method, args, null, kind, trace);
        return this.rpc(binding, id, name, method, args, kind, trace);
      },
      serviceFetch: (binding, req) => links.serviceFetch(binding, req),
      serviceRpc: (binding, method, args, kind) => links.serviceRpc(binding, method, args, kind),
    };
  }
}
