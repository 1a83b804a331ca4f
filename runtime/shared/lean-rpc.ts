import type { MessagePort, Transferable } from "node:worker_threads";
import { deserializeError, serializeError, type SerializedError } from "./comlink-node.ts";

/**
 * Calls and replies over a MessagePort with no more than a number, a method
 * name and the arguments: the direct lines between workers carry every
 * request to a hot object, and Comlink's general machinery (proxies, wire
 * values, transfer handlers) costs more there than the call itself in a
 * thread whose code V8 has not optimised yet. Errors cross as with Comlink
 * (serializeError / deserializeError), so callers see the same errors.
 */

interface LeanCall {
  lean: number;
  m: string;
  a: unknown[];
}

type LeanReply = { lean: number; v: unknown } | { lean: number; e: SerializedError };

type Handler = (...args: never[]) => Promise<unknown>;

function isLean(m: unknown): m is LeanCall | LeanReply {
  return typeof m === "object" && m !== null && typeof (m as { lean?: unknown }).lean === "number";
}

/**
 * Answers calls arriving on `port` with `handlers`; `transfer` names the
 * buffers of a method's result to move rather than copy.
 */
export function serveLean(
  port: MessagePort,
  handlers: Record<string, Handler>,
  transfer: (method: string, result: unknown) => Transferable[] = () => [],
): void {
  port.on("message", (msg: unknown) => {
    if (!isLean(msg) || !("m" in msg)) return;
    const handler = Object.hasOwn(handlers, msg.m) ? handlers[msg.m] : undefined;
    const reply = (r: LeanReply, list: Transferable[] = []): void => {
      try {
        port.postMessage(r, list);
      } catch (e) {
        // A result that cannot be cloned is the caller's error, not a lost reply.
        port.postMessage({ lean: r.lean, e: serializeError(e) });
      }
    };
    if (!handler) {
      reply({ lean: msg.lean, e: serializeError(new TypeError(`no method ${msg.m}`)) });
      return;
    }
    (handler as (...a: unknown[]) => Promise<unknown>)(...msg.a).then(
      (v) => reply({ lean: msg.lean, v }, transfer(msg.m, v)),
      (e: unknown) => reply({ lean: msg.lean, e: serializeError(e) }),
    );
  });
}

/** The calling end of a lean line. */
export class LeanClient {
  readonly #port: MessagePort;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on("message", (msg: unknown) => {
      if (!isLean(msg) || "m" in msg) return;
      const p = this.#pending.get(msg.lean);
      if (!p) return;
      this.#pending.delete(msg.lean);
      if ("e" in msg) p.reject(deserializeError(msg.e));
      else p.resolve(msg.v);
    });
  }

  call<T>(method: string, args: unknown[], transfer: Transferable[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const lean = this.#next++;
      this.#pending.set(lean, { resolve: resolve as (v: unknown) => void, reject });
      try {
        this.#port.postMessage({ lean, m: method, a: args } satisfies LeanCall, transfer);
      } catch (e) {
        // Arguments that cannot be cloned (a function, a stub): DataCloneError, as with Comlink.
        this.#pending.delete(lean);
        reject(e as Error);
      }
    });
  }
}
