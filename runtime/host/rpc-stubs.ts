import { MessagePort } from "node:worker_threads";
import { dataCloneError } from "../shared/errors.ts";
import { isStubEnvelope, type RpcArgs, type StubEnvelope } from "../shared/rpc-wire.ts";
import { exportTarget, receivedInContext, type ExportWire } from "./rpc-exports.ts";
import {
  Connection,
  disposableResult,
  member,
  StubHandle,
  type ImportWire,
  type Remote,
} from "./rpc-imports.ts";
import { abandon, forwardables, refusal, stubKind, type Kind, type Op } from "./rpc-refs.ts";
import { checkCloneable, sendOnValue } from "./rpc-values.ts";

/**
 * Workers RPC beyond plain data: a function or an RpcTarget instance in the
 * arguments or the result of an RPC call crosses as a stub, and calling the
 * stub calls back into the thread that holds the original, as workerd does.
 *
 * Each stub is a MessageChannel: the holder of the target keeps one port and
 * answers calls on it (an "export"), the other port travels in the RPC value
 * (runtime/shared/rpc-wire.ts) through however many threads, and becomes a
 * stub where the value is read (an "import"). Calls on a stub go straight to
 * the target's thread on its port. Disposing the last stub of an import
 * closes its port; the export sees the close and, once no stub of the
 * target is left anywhere, calls the target's `[Symbol.dispose]()`.
 *
 * A stub passed on to a third thread is exported again by the thread that
 * holds it (calls go through it), and the sender's own stub is disposed.
 * An object's exports close when it is reset, hibernates or goes away; an
 * entry Worker's request's close when it ends (withExportContext), which
 * also disposes the stubs it received. Calls on a closed export's stubs
 * fail, saying why.
 *
 * This file is the wire (a value's functions and RpcTargets out as
 * exports, its ports in as stubs) and the face the rest of host/ imports:
 * rpc-exports.ts is the export side, rpc-imports.ts the import side,
 * rpc-refs.ts what both stand on, rpc-values.ts how a call reaches a
 * member of a value.
 */

export { CONTEXT_GONE_MESSAGE, refuseOverRpc } from "./rpc-refs.ts";
export {
  closeExports,
  setExportCountReport,
  setExportHooks,
  withExportContext,
  type ExportHooks,
} from "./rpc-exports.ts";
export { disposeAll, StubHandle } from "./rpc-imports.ts";

// ---- values in and out ----

/** Finds what in `value` crosses by reference, checking the rest can be cloned (DataCloneError as workerd's). */
function scan(value: unknown, seen: Set<unknown>, found: Map<object, Kind>): void {
  if (value === null || (typeof value !== "object" && typeof value !== "function") || seen.has(value)) return;
  seen.add(value);
  const refused = refusal(value);
  if (refused) throw dataCloneError(refused);
  const kind = stubKind(value);
  if (kind) {
    found.set(value, kind);
    return;
  }
  checkCloneable(value as object);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      scan(k, seen, found);
      scan(v, seen, found);
    }
  } else if (value instanceof Set) {
    for (const v of value) scan(v, seen, found);
  } else if (!ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)) {
    for (const v of Object.values(value)) scan(v, seen, found);
  }
}

/** A copy of `value` with each stubbed value replaced by its port (only containers are copied). */
function replacing(value: unknown, ports: Map<object, MessagePort>, memo: Map<object, unknown>): unknown {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return value;
  const port = ports.get(value);
  if (port) return port;
  const done = memo.get(value);
  if (done !== undefined) return done;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    memo.set(value, out);
    for (const v of value) out.push(replacing(v, ports, memo));
    return out;
  }
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    memo.set(value, out);
    for (const [k, v] of value) out.set(replacing(k, ports, memo), replacing(v, ports, memo));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set<unknown>();
    memo.set(value, out);
    for (const v of value) out.add(replacing(v, ports, memo));
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    memo.set(value, out);
    for (const [k, v] of Object.entries(value)) out[k] = replacing(v, ports, memo);
    return out;
  }
  return value;
}

/**
 * An RPC value (arguments or a result) as it leaves this thread: itself when
 * it holds no function or RpcTarget (only checked), else an envelope whose
 * ports lead to new exports of them. Throws workerd's DataCloneError for what
 * cannot be serialized.
 */
export function encodeRpc(value: unknown): unknown {
  const found = new Map<object, Kind>();
  scan(value, new Set(), found);
  if (found.size === 0) return value;
  const ports = new Map<object, MessagePort>();
  const envelope: StubEnvelope = { "terrarium:stubs": true, v: undefined, p: [], k: [] };
  for (const [target, kind] of found) {
    const port = exportTarget(target, codec);
    ports.set(target, port);
    envelope.p.push(port);
    envelope.k.push(kind);
    // A stub of another thread's target passes to the receiver: the sender's
    // own is disposed, as on workerd (pass `stub.dup()` to keep one).
    forwardables.get(target)?.dispose();
  }
  envelope.v = replacing(value, ports, new Map());
  return envelope;
}

/** Encodes a call's arguments (see encodeRpc). */
export function encodeArgs(args: unknown[]): RpcArgs {
  return encodeRpc(args) as RpcArgs;
}

/**
 * An RPC value as it arrives: each port in an envelope becomes a stub
 * (`received` collects their handles, so the receiver can dispose them);
 * a value without stubs is returned as it is.
 */
export function decodeRpc(wire: unknown, received?: StubHandle[]): unknown {
  if (!isStubEnvelope(wire)) return wire;
  const kinds = new Map<MessagePort, Kind>(wire.p.map((p, i) => [p, wire.k[i] ?? "t"]));
  const made = new Map<MessagePort, unknown>();
  const stubFor = (port: MessagePort): unknown => {
    let stub = made.get(port);
    if (stub === undefined) {
      const handle = new StubHandle(new Connection(port, codec));
      received?.push(handle);
      stub = handle.stub(kinds.get(port) ?? "t");
      made.set(port, stub);
    }
    return stub;
  };
  const seen = new Set<unknown>();
  const walk = (v: unknown): unknown => {
    if (v instanceof MessagePort) return stubFor(v);
    if (v === null || typeof v !== "object" || seen.has(v)) return v;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
    } else if (v instanceof Map) {
      for (const [k, x] of [...v]) {
        const nk = walk(k);
        if (nk !== k) v.delete(k);
        v.set(nk, walk(x));
      }
    } else if (v instanceof Set) {
      const items = [...v];
      v.clear();
      for (const x of items) v.add(walk(x));
    } else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = walk(o[k]);
    }
    return v;
  };
  return walk(wire.v);
}

/** The arguments of a call as they arrive (see decodeRpc). */
export function decodeArgs(args: RpcArgs, received?: StubHandle[]): unknown[] {
  return decodeRpc(args, received) as unknown[];
}

/**
 * Decodes a result, giving it its disposer (see disposableResult); its
 * stubs are disposed when the entry Worker's event that received them ends.
 * Runs where the caller awaited the call, so that the event is known.
 */
export function decodeResult(wire: unknown): unknown {
  const handles: StubHandle[] = [];
  const value = decodeRpc(wire, handles);
  if (handles.length > 0) receivedInContext(handles);
  return disposableResult(value, handles);
}

/** The wire as the export and import sides use it (they hold no encoder of their own). */
const codec: ExportWire & ImportWire = { encodeRpc, encodeArgs, decodeArgs, decodeResult };

// ---- Durable Object stubs and service bindings ----

/** Sends one RPC call (or getter read) of a binding: a Durable Object stub's, a service binding's. */
export type BindingInvoke = (method: string, args: RpcArgs, kind: Op) => Promise<unknown>;

/**
 * What the members of a Durable Object stub or a service binding call:
 * arguments encoded (stubs for functions and RpcTargets, workerd's
 * DataCloneError for what cannot cross), results decoded, and a path
 * longer than one name pipelined on the first member's value.
 */
export function bindingRemote(invoke: BindingInvoke): Remote {
  const remote: Remote = {
    send: (op, path, args) => {
      const [first, ...rest] = path;
      if (first === undefined) return Promise.reject(new TypeError("A stub is not callable."));
      if (rest.length > 0) return remote.send("get", [first], []).then((v) => sendOnValue(v, op, rest, args));
      return invokeBinding(invoke, first, op, args);
    },
  };
  return remote;
}

async function invokeBinding(
  invoke: BindingInvoke,
  method: string,
  op: Op,
  args: unknown[],
): Promise<unknown> {
  let wire: RpcArgs;
  try {
    wire = encodeArgs(args);
  } catch (e) {
    if (e instanceof Error && /could not be cloned/.test(e.message)) throw dataCloneError(e.message);
    throw e;
  }
  let result: unknown;
  try {
    result = await invoke(method, wire, op);
  } catch (e) {
    // The arguments failed to clone on their way out: workerd's shape, not Node's.
    if (e instanceof DOMException && e.name === "DataCloneError" && !Object.hasOwn(e, "remote")) {
      abandon(wire);
      throw dataCloneError(e.message);
    }
    throw e;
  }
  return decodeResult(result);
}

/** A member of a Durable Object stub or a service binding (see member). */
export function bindingMember(remote: Remote, name: string): unknown {
  return member(remote, [name]);
}
