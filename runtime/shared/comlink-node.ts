import * as Comlink from "comlink";
import { dataCloneError } from "./errors.ts";

/** The part of a worker_threads MessagePort / Worker that Comlink needs. */
export interface NodePort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(type: "message", listener: (data: unknown) => void): unknown;
  off(type: "message", listener: (data: unknown) => void): unknown;
  start?: () => void;
}

type Listener = ((ev: { data: unknown }) => void) | { handleEvent(ev: { data: unknown }): void };

/**
 * Comlink speaks DOM MessagePorts; worker_threads hands out Node ports whose
 * listeners receive the data itself. This wraps one in the other (Comlink
 * ships the same adapter; ours is typed without the DOM library).
 */
export function nodeEndpoint(port: NodePort): Comlink.Endpoint {
  const listeners = new WeakMap<Listener, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: unknown[]) => port.postMessage(message, transfer),
    addEventListener: (_type: string, listener: Listener) => {
      const l = (data: unknown): void => {
        if ("handleEvent" in listener) listener.handleEvent({ data });
        else listener({ data });
      };
      port.on("message", l);
      listeners.set(listener, l);
    },
    removeEventListener: (_type: string, listener: Listener) => {
      const l = listeners.get(listener);
      if (!l) return;
      port.off("message", l);
      listeners.delete(listener);
    },
    start: port.start?.bind(port),
  } as unknown as Comlink.Endpoint;
}

/**
 * A Comlink remote whose method proxies are made once: Comlink creates (and
 * registers for finalization) a new proxy on every property access, which
 * shows up on the hot path of every request.
 */
export function cachedRemote<T extends object>(remote: Comlink.Remote<T>): Comlink.Remote<T> {
  const cache = new Map<string, unknown>();
  return new Proxy(remote as object, {
    get(target, prop) {
      if (typeof prop !== "string") return Reflect.get(target, prop) as unknown;
      let v = cache.get(prop);
      if (v === undefined) {
        v = Reflect.get(target, prop) as unknown;
        cache.set(prop, v);
      }
      return v;
    },
  }) as Comlink.Remote<T>;
}

const ERROR_TYPES: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  reset?: boolean;
}

const RESET = Symbol.for("terrarium.reset");

/** Marks an error as ending its object (the orchestrator retires the worker before answering). */
export function markReset(e: Error): void {
  (e as unknown as Record<symbol, boolean>)[RESET] = true;
}

export function isReset(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[RESET] === true;
}

/**
 * Errors cross thread boundaries as workerd's RPC carries them: the
 * standard classes (TypeError, RangeError, ...) and DataCloneError keep
 * their class; any other error arrives as an Error whose message starts
 * with its name; a thrown non-error becomes an Error with its text; every
 * one is marked `remote: true`.
 */
/** An error (or any thrown value) as it crosses a thread boundary. */
export function serializeError(value: unknown): SerializedError {
  return value instanceof Error || value instanceof DOMException
    ? { name: value.name, message: value.message, stack: value.stack, reset: isReset(value) }
    : { name: "Error", message: String(value), stack: undefined };
}

/** The error a SerializedError stands for, as the receiving side sees it. */
export function deserializeError(s: SerializedError): Error {
  let e: Error;
  if (s.name === "DataCloneError") {
    e = dataCloneError(s.message) as unknown as Error;
  } else {
    const Ctor = ERROR_TYPES[s.name];
    e = Ctor
      ? new Ctor(s.message)
      : new Error(s.message.startsWith(`${s.name}: `) ? s.message : `${s.name}: ${s.message}`);
  }
  if (s.stack) {
    try {
      e.stack = s.stack;
    } catch {
      // DOMException's stack may be read-only
    }
  }
  Object.defineProperty(e, "remote", {
    value: true,
    enumerable: true,
    configurable: true,
    writable: true,
  });
  if (s.reset) markReset(e);
  return e;
}

export function installErrorTransfer(): void {
  const base = Comlink.transferHandlers.get("throw");
  if (!base) return;
  Comlink.transferHandlers.set("throw", {
    canHandle: (v: unknown): v is { value: unknown } => base.canHandle(v),
    serialize: ({ value }: { value: unknown }) => [serializeError(value), []],
    deserialize: (s: SerializedError) => {
      throw deserializeError(s);
    },
  } as Comlink.TransferHandler<{ value: unknown }, SerializedError>);
}
