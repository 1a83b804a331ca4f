import type { MessagePort } from "node:worker_threads";
import { deserializeError } from "../shared/comlink-node.ts";
import { dataCloneError } from "../shared/errors.ts";
import { stubPorts, type RpcArgs } from "../shared/rpc-wire.ts";
import {
  abandon,
  DISPOSED_MESSAGE,
  forwardables,
  type Kind,
  type Op,
  type StubCall,
  type StubGone,
  type StubReply,
} from "./rpc-refs.ts";
import { sendOnValue } from "./rpc-values.ts";

/**
 * The import side of RPC stubs: stubs of targets in other threads. An
 * import (Connection) is the port to an export, shared by a stub and its
 * dup()s (StubHandle); the last one disposed, or collected, closes the port,
 * which the export sees. The stub itself is a Proxy: calling it or one of
 * its members sends a call on the port, and calls on a call's promise
 * pipeline on its value.
 */

/** What sending a call needs of the wire (rpc-stubs.ts): the arguments' stubs out, the result's in. */
export interface ImportWire {
  encodeArgs(args: unknown[]): RpcArgs;
  decodeResult(wire: unknown): unknown;
}

/** The error a stub's calls fail with once its target's thread ended with no reason given. */
function lostError(): Error {
  return new Error("The RPC stub's target is gone: the thread that held it ended.");
}

/** One import: the port to an export, shared by a stub and its dup()s. */
export class Connection {
  readonly #port: MessagePort;
  readonly #codec: ImportWire;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  refs = 0;
  #gone: Error | null = null;

  constructor(port: MessagePort, codec: ImportWire) {
    this.#port = port;
    this.#codec = codec;
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
      wire = this.#codec.encodeArgs(args);
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
    return sent.then((v) => this.#codec.decodeResult(v));
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

/** Disposes the stubs a call received in its arguments (workerd does when the call returns). */
export function disposeAll(handles: StubHandle[]): void {
  for (const h of handles) h.dispose();
}
