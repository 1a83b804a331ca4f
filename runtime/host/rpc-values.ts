import { dataCloneError } from "../shared/errors.ts";
import { forwardables, RPC_TARGET, type Op } from "./rpc-refs.ts";

const CLONEABLE_PROTOTYPES = new Set<unknown>([
  Object.prototype,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Error.prototype,
  TypeError.prototype,
  RangeError.prototype,
  SyntaxError.prototype,
  ReferenceError.prototype,
  EvalError.prototype,
  URIError.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  BigInt.prototype,
  null,
]);
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;

/**
 * Refuses, as workerd's RPC serializer does, an instance of a user class
 * (its prototype would be lost silently by structured clone). Only `value`
 * itself is looked at, not what it holds.
 */
export function checkCloneable(value: object): void {
  const proto = Object.getPrototypeOf(value) as unknown;
  const typed = proto !== null && Object.getPrototypeOf(proto) === TypedArrayPrototype;
  if (!CLONEABLE_PROTOTYPES.has(proto) && !typed) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "Object";
    throw dataCloneError(
      `Could not serialize object of type "${name}". This type does not support serialization.`,
    );
  }
}

/** checkCloneable on `value` and everything it holds. */
export function assertSerializable(value: unknown, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  checkCloneable(value);
  const typed = ArrayBuffer.isView(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      assertSerializable(k, seen);
      assertSerializable(v, seen);
    }
  } else if (value instanceof Set) {
    for (const v of value) assertSerializable(v, seen);
  } else if (!typed && !(value instanceof ArrayBuffer)) {
    for (const v of Object.values(value)) assertSerializable(v, seen);
  }
}

/**
 * What an RPC call may reach on a Durable Object: methods and getters of
 * its class (not own fields, not the constructor), as with workerd.
 */
export function findRpcMember(instance: object, name: string): PropertyDescriptor | null {
  if (name === "constructor" || Object.prototype.hasOwnProperty.call(Object.prototype, name)) return null;
  for (
    let p = Object.getPrototypeOf(instance) as object | null;
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p) as object | null
  ) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d) return d;
  }
  return null;
}

/**
 * An RPC call (or, with kind "get", a getter's read) on `instance`, with
 * workerd's errors: the object's methods for a Durable Object stub, an
 * entrypoint's for a service binding.
 */
export async function callMember(
  instance: Record<string, unknown>,
  method: string,
  args: unknown[],
  kind: "call" | "get",
): Promise<unknown> {
  const member = findRpcMember(instance, method);
  if (kind === "get") {
    if (!member) throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
    const value = member.get ? member.get.call(instance) : member.value;
    // A method read as a property is a function (a stub of it, bound, on the other side), as on workerd.
    if (typeof value === "function") return (value as (...a: unknown[]) => unknown).bind(instance);
    return value;
  }
  const fn = member?.get ? member.get.call(instance) : member?.value;
  if (typeof fn !== "function") {
    throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
  }
  return (fn as (...a: unknown[]) => unknown).apply(instance, args);
}

// ---- paths through values reached over RPC (a stub this thread holds sends the rest on) ----

/** Reads `path` on a target as workerd's RPC does: class members of an RpcTarget, own data of a plain value. */
export async function invokeOn(target: object, path: string[], op: Op, args: unknown[]): Promise<unknown> {
  const f = forwardables.get(target);
  if (f) return f.send(op, path, args);
  if (typeof target === "function") {
    if (path.length === 0 && op === "call") return (target as (...a: unknown[]) => unknown)(...args);
    if (path.length === 0) return target;
    throw new TypeError(`The RPC receiver does not implement the method "${path[0]}".`);
  }
  let t: unknown = target;
  for (let i = 0; i < path.length - 1; i++) t = await readMember(t, path[i]!);
  const last = path[path.length - 1];
  if (last === undefined) {
    if (op === "get") return t;
    throw new TypeError("An RpcTarget is not callable.");
  }
  return callOnValue(t, last, op, args);
}

/** One step of a property path on a value reached over RPC. */
async function readMember(t: unknown, name: string): Promise<unknown> {
  if (t !== null && typeof t === "object") {
    const f = forwardables.get(t);
    if (f) return f.send("get", [name], []);
    if ((t as Record<symbol, unknown>)[RPC_TARGET] === true) {
      const d = findRpcMember(t, name);
      return d?.get ? d.get.call(t) : d?.value;
    }
    if (Object.hasOwn(t, name)) return (t as Record<string, unknown>)[name];
    return undefined;
  }
  if (typeof t === "function") {
    const f = forwardables.get(t);
    if (f) return f.send("get", [name], []);
  }
  return undefined;
}

async function callOnValue(t: unknown, name: string, op: Op, args: unknown[]): Promise<unknown> {
  if (t !== null && (typeof t === "object" || typeof t === "function")) {
    const f = forwardables.get(t);
    if (f) return f.send(op, [name], args);
    if ((t as Record<symbol, unknown>)[RPC_TARGET] === true)
      return callMember(t as Record<string, unknown>, name, args, op);
  }
  const member = await readMember(t, name);
  if (op === "get") return member;
  if (typeof member !== "function")
    throw new TypeError(`The RPC receiver does not implement the method "${name}".`);
  return Reflect.apply(member as (...a: unknown[]) => unknown, t, args);
}

/** Runs a pipelined call on the value a call resolved to: a stub takes the rest of the path itself. */
export async function sendOnValue(value: unknown, op: Op, path: string[], args: unknown[]): Promise<unknown> {
  let v = value;
  for (let i = 0; i < path.length; i++) {
    if (v !== null && (typeof v === "object" || typeof v === "function")) {
      const f = forwardables.get(v);
      if (f) return f.send(op, path.slice(i), args);
    }
    if (i === path.length - 1) return callOnValue(v, path[i]!, op, args);
    v = await readMember(v, path[i]!);
  }
  return v;
}
