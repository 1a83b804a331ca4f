import { deserializeResponse, serializeRequest } from "./http-serialize.ts";
import type { SerializedRequest, SerializedResponse } from "./protocol.ts";
import type { RpcArgs } from "../shared/rpc-wire.ts";
import { bindingMember, bindingRemote, refuseOverRpc } from "./rpc-stubs.ts";

/** How a service binding reaches the Worker it names: through the orchestrator. */
export interface ServiceCalls {
  fetch(binding: string, req: SerializedRequest): Promise<SerializedResponse>;
  rpc(binding: string, method: string, args: RpcArgs, kind: "call" | "get"): Promise<unknown>;
}

/**
 * `env.SVC` for a `services` binding (workerd's Fetcher): `fetch()` sends an
 * HTTP request to the bound Worker's entrypoint, and any other property is
 * an RPC method of that entrypoint (a `WorkerEntrypoint` class), callable,
 * or awaitable for a getter, as on a Durable Object stub.
 */
export function serviceBinding(binding: string, calls: ServiceCalls): Record<string, unknown> {
  const base = {
    async fetch(input: Request | string | URL, init?: RequestInit): Promise<Response> {
      const req = await serializeRequest(
        input instanceof Request && init === undefined ? input : new Request(input, init),
      );
      return deserializeResponse(await calls.fetch(binding, req));
    },
    connect(): never {
      throw new Error(`env.${binding}.connect() (TCP to a Worker) is not supported by Terrarium yet.`);
    },
  };
  const remote = bindingRemote((method, args, kind) => calls.rpc(binding, method, args, kind));
  const stub = new Proxy(base, {
    get(target, prop) {
      if (typeof prop === "symbol") return undefined;
      if (prop in target) return target[prop as keyof typeof target];
      if (prop === "then" || prop === "toJSON") return undefined;
      return bindingMember(remote, prop);
    },
  });
  // Not passed over RPC at the compatibility dates Terrarium follows (workerd refuses it).
  refuseOverRpc(stub, "ServiceStub serialization requires the 'experimental' compat flag.");
  return stub;
}
