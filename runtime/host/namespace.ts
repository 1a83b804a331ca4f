import { idFromName, idFromString, namespaceKey, newUniqueId, type NamespaceKey } from "../shared/ids.ts";
import { deserializeResponse, serializeRequest } from "./http-serialize.ts";
import type { TerrariumWebSocket } from "./websocket.ts";
import type { SerializedRequest, SerializedResponse } from "./protocol.ts";
import type { RpcArgs } from "../shared/rpc-wire.ts";
import { bindingMember, bindingRemote, refuseOverRpc } from "./rpc-stubs.ts";

/** How stubs reach objects: through the orchestrator, or on a direct line (runtime/host/peers.ts). */
export interface ObjectCalls {
  fetch(
    binding: string,
    id: string,
    name: string | null,
    req: SerializedRequest,
  ): Promise<SerializedResponse>;
  rpc(
    binding: string,
    id: string,
    name: string | null,
    method: string,
    args: RpcArgs,
    kind: "call" | "get",
  ): Promise<unknown>;
}

/** Makes the client end of socket `id` for this worker. */
export type ClientSocketFactory = (id: string) => TerrariumWebSocket;

export class DurableObjectId {
  readonly #hex: string;
  readonly name: string | undefined;
  constructor(hex: string, name?: string) {
    this.#hex = hex;
    this.name = name;
  }
  toString(): string {
    return this.#hex;
  }
  equals(other: DurableObjectId): boolean {
    return other instanceof DurableObjectId && other.toString() === this.#hex;
  }
  /** As workerd: the name when there is one, never the hex id. */
  toJSON(): { name?: string } {
    return this.name !== undefined ? { name: this.name } : {};
  }
}

/** `env.MY_NAMESPACE`: ids and stubs; every call on a stub goes through the orchestrator. */
export class DurableObjectNamespace {
  readonly #binding: string;
  readonly #key: NamespaceKey;
  readonly #calls: ObjectCalls;
  readonly #clientSocket: ClientSocketFactory | null;

  /** `clientSocket` makes the client end of a WebSocket an object's fetch answers with (see deserializeResponse). */
  constructor(
    binding: string,
    workerName: string,
    className: string,
    calls: ObjectCalls,
    clientSocket: ClientSocketFactory | null = null,
  ) {
    this.#binding = binding;
    this.#key = namespaceKey(workerName, className);
    this.#calls = calls;
    this.#clientSocket = clientSocket;
  }

  /** name -> id: two HMACs per derivation are worth remembering for hot names. */
  readonly #byName = new Map<string, string>();
  /** Ids this namespace minted or checked; get() need not check them again. */
  readonly #valid = new Set<string>();

  idFromName(name: string): DurableObjectId {
    if (typeof name !== "string") throw new TypeError("idFromName() requires a string name.");
    let hex = this.#byName.get(name);
    if (hex === undefined) {
      hex = idFromName(this.#key, name);
      if (this.#byName.size >= 10_000) this.#byName.clear();
      this.#byName.set(name, hex);
      this.#remember(hex);
    }
    return new DurableObjectId(hex, name);
  }

  #remember(hex: string): void {
    if (this.#valid.size >= 10_000) this.#valid.clear();
    this.#valid.add(hex);
  }

  newUniqueId(_options?: { jurisdiction?: string }): DurableObjectId {
    const hex = newUniqueId(this.#key);
    this.#remember(hex);
    return new DurableObjectId(hex);
  }

  idFromString(id: string): DurableObjectId {
    const hex = idFromString(this.#key, id);
    this.#remember(hex);
    return new DurableObjectId(hex);
  }

  get(id: DurableObjectId, _options?: { locationHint?: string }): DurableObjectStub {
    if (!(id instanceof DurableObjectId)) throw new TypeError("get() requires a DurableObjectId.");
    // An id minted by another namespace is refused here, as workerd does.
    const hex = id.toString();
    if (!this.#valid.has(hex)) {
      idFromString(this.#key, hex);
      this.#remember(hex);
    }
    return makeStub(this.#binding, id, this.#calls, this.#clientSocket);
  }

  getByName(name: string, options?: { locationHint?: string }): DurableObjectStub {
    return this.get(this.idFromName(name), options);
  }

  jurisdiction(_name: string): DurableObjectNamespace {
    return this;
  }
}

export type DurableObjectStub = Record<string, unknown> & {
  readonly id: DurableObjectId;
  readonly name: string | undefined;
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
};

function makeStub(
  binding: string,
  id: DurableObjectId,
  calls: ObjectCalls,
  clientSocket: ClientSocketFactory | null,
): DurableObjectStub {
  const hex = id.toString();
  const name = id.name ?? null;
  const base = {
    id,
    name: id.name,
    async fetch(input: Request | string | URL, init?: RequestInit): Promise<Response> {
      const req = await serializeRequest(
        input instanceof Request && init === undefined ? input : new Request(input, init),
      );
      return deserializeResponse(await calls.fetch(binding, hex, name, req), clientSocket);
    },
  };
  const remote = bindingRemote((method, args, kind) => calls.rpc(binding, hex, name, method, args, kind));
  const stub = new Proxy(base, {
    get(target, prop) {
      if (typeof prop === "symbol") return undefined;
      if (prop in target) return target[prop as keyof typeof target];
      if (prop === "then" || prop === "toJSON") return undefined;
      // Callable for a method, awaitable for a getter, as workerd's stubs are.
      return bindingMember(remote, prop);
    },
  });
  // Not passed by reference over RPC at the compatibility dates Terrarium follows (workerd refuses it).
  refuseOverRpc(
    stub,
    'Could not serialize object of type "DurableObject". This type does not support serialization.',
  );
  return stub as unknown as DurableObjectStub;
}
