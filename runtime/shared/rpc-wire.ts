import { MessagePort } from "node:worker_threads";
import * as Comlink from "comlink";

/**
 * An RPC value (a call's arguments or its result) that holds stubs: the
 * functions and RpcTargets in it, passed by reference (runtime/host/rpc-stubs.ts).
 * Each stub travels as a MessagePort to the thread that holds the target, in
 * place of the value, and `k` says what it stands for ("f": a function, "t":
 * an RpcTarget). The ports must be transferred at every hop: the main thread
 * passes an envelope on with `withStubPorts` and never looks inside.
 *
 * A value without stubs travels as itself (no envelope, nothing to walk).
 * User values can never hold a MessagePort (the RPC serializer refuses one),
 * so an envelope cannot be forged by the data it carries.
 */
export interface StubEnvelope {
  "terrarium:stubs": true;
  v: unknown;
  p: MessagePort[];
  k: ("f" | "t")[];
}

/** Arguments of an RPC call as they cross threads: the list, or an envelope holding it. */
export type RpcArgs = unknown[] | StubEnvelope;

export function isStubEnvelope(x: unknown): x is StubEnvelope {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const e = x as Partial<StubEnvelope>;
  return e["terrarium:stubs"] === true && Array.isArray(e.p) && e.p[0] instanceof MessagePort;
}

/** The ports an RPC value carries (none for a value without stubs). */
export function stubPorts(x: unknown): MessagePort[] {
  return isStubEnvelope(x) ? x.p : [];
}

/** Marks an RPC value's ports for transfer by Comlink, wherever it is passed on (an argument or a result). */
export function withStubPorts<T>(x: T): T {
  return isStubEnvelope(x) ? Comlink.transfer(x, x.p) : x;
}
