import { dataCloneError } from "../shared/errors.ts";

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
