import type { SerializedError } from "../shared/comlink-node.ts";
import { stubPorts, type RpcArgs } from "../shared/rpc-wire.ts";

/**
 * The ground both sides of an RPC stub stand on (rpc-stubs.ts tells the
 * whole story): what crosses by reference and as which kind, the messages
 * a stub's port carries, workerd's words for a dead stub, and the stubs
 * this thread holds (forwardables), which every side must recognise: a
 * stub passed on is exported again, a call on one is sent on.
 */

/** Set on RpcTarget.prototype by Terrarium's cloudflare:workers (bundled into the user's code). */
export const RPC_TARGET = Symbol.for("terrarium.RpcTarget");
/** What `new RpcStub(target)` (cloudflare:workers) wraps: exported as the target itself. */
export const LOCAL_STUB_TARGET = Symbol.for("terrarium.RpcStub.target");

export type Kind = "f" | "t";
export type Op = "call" | "get";

/** workerd's words for a call on a stub after its disposal. */
export const DISPOSED_MESSAGE = "RPC stub used after being disposed.";
/** workerd's words for a call on a stub whose target's request ended, or whose object was reset. */
export const CONTEXT_GONE_MESSAGE = "The execution context which hosts this callback is no longer running.";

/** Call messages on a stub's port, and their answers. */
export type StubCall = { c: number; op: Op; path: string[]; a: RpcArgs };
export type StubReply = { r: number; v: unknown } | { r: number; e: SerializedError };
/** Sent by an export before it closes for a reason the stub's calls should then fail with. */
export type StubGone = { gone: SerializedError };

// ---- what may cross as a stub ----

/** How calls reach the target of a stub from another thread (the stubs this thread holds, by proxy). */
export interface Forwardable {
  send(op: Op, path: string[], args: unknown[]): Promise<unknown>;
  kind: Kind;
  /** Another stub of the same target, which an export of it holds (the sender's is disposed). */
  dup(): object;
  dispose(): void;
}
export const forwardables = new WeakMap<object, Forwardable>();

/**
 * Values RPC refuses to serialize, with workerd's DataCloneError message: a
 * Durable Object stub or a service binding, which workerd passes by
 * reference only under later compatibility flags.
 */
const unserializable = new WeakMap<object, string>();

export function refuseOverRpc(value: object, message: string): void {
  unserializable.set(value, message);
}

/** The DataCloneError message RPC refuses `value` with (refuseOverRpc), if it does. */
export function refusal(value: object): string | undefined {
  return unserializable.get(value);
}

export function stubKind(value: object): Kind | null {
  const f = forwardables.get(value);
  if (f) return f.kind;
  if (typeof value === "function") return "f";
  const local = (value as Record<symbol, unknown>)[LOCAL_STUB_TARGET];
  if (local !== undefined) return typeof local === "function" ? "f" : "t";
  if ((value as Record<symbol, unknown>)[RPC_TARGET] === true) return "t";
  return null;
}

/** Closes the exports an encoded value made, when it could not be sent after all. */
export function abandon(wire: unknown): void {
  for (const port of stubPorts(wire)) port.close();
}
