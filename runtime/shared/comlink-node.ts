import * as Comlink from "comlink";

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

const ERROR_TYPES: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
}

/**
 * Errors cross thread boundaries with their name and message, and come out
 * as the standard class of that name where there is one (a TypeError thrown
 * in an object is a TypeError in its caller, as with workerd RPC).
 */
export function installErrorTransfer(): void {
  const base = Comlink.transferHandlers.get("throw");
  if (!base) return;
  Comlink.transferHandlers.set("throw", {
    canHandle: (v: unknown): v is { value: unknown } => base.canHandle(v),
    serialize: ({ value }: { value: unknown }) => {
      const out: SerializedError =
        value instanceof Error
          ? { name: value.name, message: value.message, stack: value.stack }
          : { name: "Error", message: String(value), stack: undefined };
      return [out, []];
    },
    deserialize: (s: SerializedError) => {
      const Ctor = ERROR_TYPES[s.name] ?? Error;
      const e = new Ctor(s.message);
      if (!(s.name in ERROR_TYPES)) e.name = s.name;
      if (s.stack) e.stack = s.stack;
      throw e;
    },
  } as Comlink.TransferHandler<{ value: unknown }, SerializedError>);
}
