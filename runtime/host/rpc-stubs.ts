import { AsyncLocalStorage } from "node:async_hooks";
import { MessageChannel, MessagePort } from "node:worker_threads";
import { deserializeError, serializeError, type SerializedError } from "../shared/comlink-node.ts";
import { dataCloneError } from "../shared/errors.ts";
import { isStubEnvelope, stubPorts, type RpcArgs, type StubEnvelope } from "../shared/rpc-wire.ts";
import { callMember, checkCloneable, findRpcMember } from "./rpc-values.ts";

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
 */

/** Set on RpcTarget.prototype by Terrarium's cloudflare:workers (bundled into the user's code). */
const RPC_TARGET = Symbol.for("terrarium.RpcTarget");
/** What `new RpcStub(target)` (cloudflare:workers) wraps: exported as the target itself. */
const LOCAL_STUB_TARGET = Symbol.for("terrarium.RpcStub.target");

type Kind = "f" | "t";
type Op = "call" | "get";

/** workerd's words for a call on a stub after its disposal. */
export const DISPOSED_MESSAGE = "RPC stub used after being disposed.";
/** workerd's words for a call on a stub whose target's request ended, or whose object was reset. */
export const CONTEXT_GONE_MESSAGE = "The execution context which hosts this callback is no longer running.";

// ---- what may cross as a stub ----

/** How calls reach the target of a stub from another thread (the stubs this thread holds, by proxy). */
interface Forwardable {
  send(op: Op, path: string[], args: unknown[]): Promise<unknown>;
  kind: Kind;
  /** Another stub of the same target, which an export of it holds (the sender's is disposed). */
  dup(): object;
  dispose(): void;
}
const forwardables = new WeakMap<object, Forwardable>();

/**
 * Values RPC refuses to serialize, with workerd's DataCloneError message: a
 * Durable Object stub or a service binding, which workerd passes by
 * reference only under later compatibility flags.
 */
const unserializable = new WeakMap<object, string>();

export function refuseOverRpc(value: object, message: string): void {
  unserializable.set(value, message);
}

function stubKind(value: object): Kind | null {
  const f = forwardables.get(value);
  if (f) return f.kind;
  if (typeof value === "function") return "f";
  const local = (value as Record<symbol, unknown>)[LOCAL_STUB_TARGET];
  if (local !== undefined) return typeof local === "function" ? "f" : "t";
  if ((value as Record<symbol, unknown>)[RPC_TARGET] === true) return "t";
  return null;
}

/** Finds what in `value` crosses by reference, checking the rest can be cloned (DataCloneError as workerd's). */
function scan(value: unknown, seen: Set<unknown>, found: Map<object, Kind>): void {
  if (value === null || (typeof value !== "object" && typeof value !== "function") || seen.has(value)) return;
  seen.add(value);
  const refused = unserializable.get(value);
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
    const port = exportTarget(target);
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

/** Closes the exports an encoded value made, when it could not be sent after all. */
function abandon(wire: unknown): void {
  for (const port of stubPorts(wire)) port.close();
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
      const handle = new StubHandle(new Connection(port));
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

/** Disposes the stubs a call received in its arguments (workerd does when the call returns). */
export function disposeAll(handles: StubHandle[]): void {
  for (const h of handles) h.dispose();
}

// ---- exports: targets of this thread that stubs elsewhere call ----

/** Runs around every call that arrives on an export (the object's input gate, in an object's worker). */
export interface ExportHooks {
  before(): Promise<void> | void;
  after(): void;
}
let hooks: ExportHooks = { before: () => {}, after: () => {} };

export function setExportHooks(h: ExportHooks): void {
  hooks = h;
}

interface Export {
  target: object;
  port: MessagePort;
  closed: boolean;
}

/**
 * An entry Worker's event (a request, a queue batch): the functions and
 * RpcTargets it exported live as long as it runs, as on workerd, where
 * they belong to the event's execution context.
 */
interface ExportContext {
  exports: Set<Export>;
  /** The stubs it received (results of its calls): disposed when it ends, as on workerd. */
  imports: StubHandle[];
}
const exportContext = new AsyncLocalStorage<ExportContext>();

/**
 * Runs an event whose exports end with it (calls on their stubs afterwards
 * fail with workerd's CONTEXT_GONE_MESSAGE), and which disposes the stubs
 * it received and kept (their targets' disposers run).
 */
export async function withExportContext<T>(fn: () => Promise<T>): Promise<T> {
  const context: ExportContext = { exports: new Set(), imports: [] };
  try {
    return await exportContext.run(context, fn);
  } finally {
    disposeAll(context.imports);
    if (context.exports.size > 0) {
      const gone = new Error(CONTEXT_GONE_MESSAGE);
      for (const ex of context.exports) closeExport(ex, gone);
    }
  }
}

const openExports = new Set<Export>();
/** Open exports per target: the target's [Symbol.dispose]() runs when the last one closes. */
const exportCounts = new Map<object, number>();

/** Call messages on a stub's port, and their answers. */
type StubCall = { c: number; op: Op; path: string[]; a: RpcArgs };
type StubReply = { r: number; v: unknown } | { r: number; e: SerializedError };
/** Sent by an export before it closes for a reason the stub's calls should then fail with. */
type StubGone = { gone: SerializedError };

function exportTarget(value: object): MessagePort {
  const f = forwardables.get(value);
  const local = f ? undefined : (value as Record<symbol, unknown>)[LOCAL_STUB_TARGET];
  const target = (f ? f.dup() : local !== undefined ? local : value) as object;
  const { port1, port2 } = new MessageChannel();
  const ex: Export = { target, port: port1, closed: false };
  openExports.add(ex);
  exportContext.getStore()?.exports.add(ex);
  exportCounts.set(target, (exportCounts.get(target) ?? 0) + 1);
  port1.on("message", (m: unknown) => void serve(ex, m as StubCall));
  port1.on("close", () => release(ex, true));
  port1.unref();
  return port2;
}

async function serve(ex: Export, m: StubCall): Promise<void> {
  if (typeof m !== "object" || m === null || typeof m.c !== "number") return;
  const received: StubHandle[] = [];
  let reply: StubReply;
  try {
    await hooks.before();
    const args = m.op === "call" ? decodeArgs(m.a, received) : [];
    const result = await invokeOn(ex.target, m.path, m.op, args);
    hooks.after();
    reply = { r: m.c, v: encodeRpc(result) };
  } catch (e) {
    reply = { r: m.c, e: serializeError(e) };
  } finally {
    disposeAll(received);
  }
  if (ex.closed) return;
  try {
    ex.port.postMessage(reply, "v" in reply ? stubPorts(reply.v) : []);
  } catch (e) {
    // A result that cannot be cloned (a symbol, say) is the caller's error.
    abandon("v" in reply ? reply.v : undefined);
    try {
      ex.port.postMessage({
        r: m.c,
        e: serializeError(
          e instanceof Error && /could not be cloned/.test(e.message) ? dataCloneError(e.message) : e,
        ),
      } satisfies StubReply);
    } catch {
      // the stub's side is gone
    }
  }
}

/** Reads `path` on a target as workerd's RPC does: class members of an RpcTarget, own data of a plain value. */
async function invokeOn(target: object, path: string[], op: Op, args: unknown[]): Promise<unknown> {
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

function release(ex: Export, disposeTarget: boolean): void {
  if (ex.closed) return;
  ex.closed = true;
  openExports.delete(ex);
  const n = (exportCounts.get(ex.target) ?? 1) - 1;
  if (n > 0) {
    exportCounts.set(ex.target, n);
    return;
  }
  exportCounts.delete(ex.target);
  const f = forwardables.get(ex.target);
  if (f) {
    // A stub of another thread's target, dup()ed for this export.
    f.dispose();
    return;
  }
  if (!disposeTarget) return;
  const dispose = (ex.target as Record<symbol, unknown>)[Symbol.dispose];
  if (typeof dispose === "function") {
    try {
      void Promise.resolve((dispose as () => unknown).call(ex.target)).catch(() => {});
    } catch {
      // a throwing disposer has nobody to tell
    }
  }
}

/**
 * Closes every export of this thread, telling each stub why (the object that
 * held the targets was reset, hibernated or went away): calls on them fail
 * with `reason`. Their targets' disposers do not run.
 */
export function closeExports(reason: Error): void {
  for (const ex of [...openExports]) closeExport(ex, reason);
}

function closeExport(ex: Export, reason: Error): void {
  if (ex.closed) return;
  release(ex, false);
  try {
    ex.port.postMessage({ gone: serializeError(reason) } satisfies StubGone);
  } catch {
    // the other side is gone already
  }
  ex.port.close();
}

// ---- imports: stubs of targets in other threads ----

/** The error a stub's calls fail with once its target's thread ended with no reason given. */
function lostError(): Error {
  return new Error("The RPC stub's target is gone: the thread that held it ended.");
}

/** One import: the port to an export, shared by a stub and its dup()s. */
class Connection {
  readonly #port: MessagePort;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  refs = 0;
  #gone: Error | null = null;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on("message", (m: unknown) => {
      if (typeof m !== "object" || m === null) return;
      if ("gone" in m) {
        this.#gone = deserializeError((m as StubGone).gone);
        return;
      }
      const reply = m as StubReply;
      const p = this.#pending.get(reply.r);
      if (!p) return;
      this.#pending.delete(reply.r);
      if ("e" in reply) p.reject(deserializeError(reply.e));
      else p.resolve(reply.v);
    });
    port.on("close", () => {
      const e = this.#gone ?? lostError();
      this.#gone = e;
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    });
    port.unref();
  }

  send(op: Op, path: string[], args: unknown[]): Promise<unknown> {
    if (this.#gone) return Promise.reject(this.#gone);
    let wire: RpcArgs;
    try {
      wire = encodeArgs(args);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const sent = new Promise((resolve, reject) => {
      const c = this.#next++;
      this.#pending.set(c, { resolve, reject });
      try {
        this.#port.postMessage({ c, op, path, a: wire } satisfies StubCall, stubPorts(wire));
      } catch (e) {
        this.#pending.delete(c);
        abandon(wire);
        reject(e instanceof Error && /could not be cloned/.test(e.message) ? dataCloneError(e.message) : e);
      }
    });
    // Decoded in the caller's async context (not the port's), so the event that receives stubs is known.
    return sent.then(decodeResult);
  }

  /** The last stub of this import was disposed: the export is told by the port closing. */
  close(): void {
    if (!this.#gone) this.#gone = new Error(DISPOSED_MESSAGE);
    this.#port.close();
  }
}

/** Closes an import whose stubs were collected without being disposed. */
const collected = new FinalizationRegistry<{ conn: Connection; live: { disposed: boolean } }>((held) => {
  if (held.live.disposed) return;
  held.live.disposed = true;
  if (--held.conn.refs === 0) held.conn.close();
});

/** One stub (a dup() is another) of an import. */
export class StubHandle {
  readonly #conn: Connection;
  readonly #live = { disposed: false };

  constructor(conn: Connection) {
    this.#conn = conn;
    conn.refs++;
  }

  get disposed(): boolean {
    return this.#live.disposed;
  }

  send(op: Op, path: string[], args: unknown[]): Promise<unknown> {
    if (this.#live.disposed) return Promise.reject(new Error(DISPOSED_MESSAGE));
    return this.#conn.send(op, path, args);
  }

  dispose(): void {
    if (this.#live.disposed) return;
    this.#live.disposed = true;
    if (--this.#conn.refs === 0) this.#conn.close();
  }

  dup(kind: Kind): unknown {
    if (this.#live.disposed) throw new Error(DISPOSED_MESSAGE);
    return new StubHandle(this.#conn).stub(kind);
  }

  /** The stub user code holds: callable for a function, members for an RpcTarget, `dup()` and `[Symbol.dispose]()`. */
  stub(kind: Kind): unknown {
    const stub = remoteStub(
      this,
      kind,
      () => this.dup(kind),
      () => this.dispose(),
    );
    collected.register(stub as object, { conn: this.#conn, live: this.#live });
    return stub;
  }
}

// ---- stubs, members and pipelined promises ----

/** Something calls on a stub go to. */
export interface Remote {
  send(op: Op, path: string[], args: unknown[]): Promise<unknown>;
}

/** Props of a promise the pipelined promise keeps as its own. */
const PROMISE_PROPS = new Set<PropertyKey>(["then", "catch", "finally", "constructor"]);

/**
 * An RPC call's promise, on which further calls may be made before it
 * resolves (promise pipelining): `stub.getCounter().increment()`.
 */
export function pipelined(p: Promise<unknown>): Promise<unknown> {
  // Nobody may await the promise itself (only members of it): no unhandled rejection then.
  p.catch(() => {});
  return new Proxy(p, {
    get(target, prop) {
      if (PROMISE_PROPS.has(prop) || typeof prop === "symbol") {
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === "function" ? (v as () => unknown).bind(target) : v;
      }
      return member({ send: (op, path, args) => p.then((v) => sendOnValue(v, op, path, args)) }, [prop]);
    },
  });
}

/** Runs a pipelined call on the value a call resolved to: a stub takes the rest of the path itself. */
async function sendOnValue(value: unknown, op: Op, path: string[], args: unknown[]): Promise<unknown> {
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

/**
 * A member of a stub (`stub.name`): called, an RPC call; awaited, the
 * property's value; its own members pipeline on it.
 */
export function member(remote: Remote, path: string[]): unknown {
  const call = (...args: unknown[]): Promise<unknown> => pipelined(remote.send("call", path, args));
  return new Proxy(call, {
    apply: (_t, _self, args: unknown[]) => call(...args),
    get(target, prop) {
      if (prop === "then") {
        const p = remote.send("get", path, []);
        return p.then.bind(p);
      }
      if (prop === "catch" || prop === "finally") {
        const p = remote.send("get", path, []);
        return (p[prop] as () => unknown).bind(p);
      }
      if (typeof prop === "symbol") return Reflect.get(target, prop) as unknown;
      return member(remote, [...path, prop]);
    },
  });
}

function remoteStub(handle: StubHandle, kind: Kind, dup: () => unknown, dispose: () => void): unknown {
  const remote: Remote = handle;
  // Both kinds are callable objects to user code (workerd: typeof is "function").
  const base = () => {};
  const stub = new Proxy(base, {
    apply: (_t, _self, args: unknown[]) => pipelined(remote.send("call", [], args)),
    get(t, prop) {
      if (prop === Symbol.dispose) return dispose;
      if (prop === "dup") return dup;
      // A function stub's own name and length, as a function has them.
      if (kind === "f" && (prop === "name" || prop === "length")) return Reflect.get(t, prop) as unknown;
      if (typeof prop === "symbol" || prop === "then" || prop === "toJSON") return undefined;
      return member(remote, [prop]);
    },
    has: (_t, prop) => prop === Symbol.dispose || prop === "dup",
  });
  forwardables.set(stub, {
    kind,
    send: (op, path, args) => remote.send(op, path, args),
    dup: () => dup() as object,
    dispose,
  });
  return stub;
}

/**
 * Gives an RPC result a `[Symbol.dispose]()` that disposes the stubs in it
 * (workerd gives every object result one, so `using r = await stub.m()` works).
 */
export function disposableResult(value: unknown, handles: StubHandle[]): unknown {
  if (value === null || typeof value !== "object" || forwardables.has(value)) return value;
  if (Object.hasOwn(value, Symbol.dispose) || !Object.isExtensible(value)) return value;
  Object.defineProperty(value, Symbol.dispose, {
    value: () => disposeAll(handles),
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return value;
}

/**
 * Decodes a result, giving it its disposer (see disposableResult); its
 * stubs are disposed when the entry Worker's event that received them ends.
 * Runs where the caller awaited the call, so that the event is known.
 */
export function decodeResult(wire: unknown): unknown {
  const handles: StubHandle[] = [];
  const value = decodeRpc(wire, handles);
  if (handles.length > 0) exportContext.getStore()?.imports.push(...handles);
  return disposableResult(value, handles);
}

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
