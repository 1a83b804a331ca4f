import type { BridgeReply, BridgeRequest, ControlApi, ControlMethod, LiveEvent } from "./contract.ts";
import { CONTROL_METHODS, bridgeRequestSchema } from "./contract.ts";
import { dispatch, toBridgeError } from "./dispatch.ts";

/**
 * The control API across a message port between two processes: the
 * desktop app's engine runs in an Electron utility process, and Electron
 * main (which keeps the window and its IPC) reaches it through here. The
 * messages are the bridges' own (BridgeRequest and BridgeReply, as the web
 * twin's WebSocket carries them), sent as structured clones.
 */

/** One end of a message channel (Electron's parentPort or a UtilityProcess, a Node IPC channel). */
export interface MessagePortLike {
  postMessage(message: unknown): void;
}

/**
 * Serves `api` to the other end: each call is parsed with the contract's
 * schemas (dispatch) and answered with its result or a named error; the
 * live stream starts and stops on request. Feed it every message that
 * arrives; it returns false for a message that is not a bridge request (the
 * caller's own protocol). `close` ends the live stream.
 */
export function servePort(
  api: ControlApi,
  port: MessagePortLike,
): { onMessage(message: unknown): boolean; close(): void } {
  let unsubscribe: (() => void) | null = null;
  const reply = (m: BridgeReply): void => port.postMessage(m);
  return {
    onMessage(message) {
      const parsed = bridgeRequestSchema.safeParse(message);
      if (!parsed.success) return false;
      const msg: BridgeRequest = parsed.data;
      if (msg.type === "subscribe") {
        unsubscribe ??= api.subscribe((batch: LiveEvent[]) => reply({ type: "events", batch }));
      } else if (msg.type === "unsubscribe") {
        unsubscribe?.();
        unsubscribe = null;
      } else {
        dispatch(api, msg.method, msg.args).then(
          (value) => reply({ type: "result", id: msg.id, ok: true, value }),
          (e: unknown) => reply({ type: "result", id: msg.id, ok: false, error: toBridgeError(e) }),
        );
      }
      return true;
    },
    close() {
      unsubscribe?.();
      unsubscribe = null;
    },
  };
}

/** A call's failure as it came across the port: the engine's error, by name. */
export class RemoteError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * The calling end: a ControlApi whose every method is a message to
 * whichever port `current()` returns. A call made while there is none (the
 * engine's process is starting or restarting) waits for `connected`;
 * calls in flight when the process dies are failed by `disconnected` with
 * the reason. The live stream is asked for again on each new port while
 * anyone listens.
 */
export class PortApi {
  readonly api: ControlApi;
  #port: MessagePortLike | null = null;
  #nextId = 1;
  readonly #inFlight = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  /** Calls made while no port was there, sent on the next one. */
  #waiting: { method: ControlMethod; args: unknown[]; resolve(v: unknown): void; reject(e: Error): void }[] =
    [];
  readonly #listeners = new Set<(batch: LiveEvent[]) => void>();
  #closed: Error | null = null;

  constructor() {
    const api: Record<string, unknown> = {};
    for (const method of CONTROL_METHODS) api[method] = (...args: unknown[]) => this.#call(method, args);
    api.subscribe = (listener: (batch: LiveEvent[]) => void) => {
      if (this.#listeners.size === 0) this.#port?.postMessage({ type: "subscribe" });
      this.#listeners.add(listener);
      return () => {
        if (!this.#listeners.delete(listener)) return;
        if (this.#listeners.size === 0) this.#port?.postMessage({ type: "unsubscribe" });
      };
    };
    this.api = Object.freeze(api) as unknown as ControlApi;
  }

  #call(method: ControlMethod, args: unknown[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    // Structured clone keeps `undefined`, but the schemas treat a trailing one as absent anyway.
    while (args.length > 0 && args[args.length - 1] === undefined) args = args.slice(0, -1);
    return new Promise((resolve, reject) => {
      if (!this.#port) this.#waiting.push({ method, args, resolve, reject });
      else this.#send(this.#port, method, args, resolve, reject);
    });
  }

  #send(
    port: MessagePortLike,
    method: ControlMethod,
    args: unknown[],
    resolve: (v: unknown) => void,
    reject: (e: Error) => void,
  ): void {
    const id = this.#nextId++;
    this.#inFlight.set(id, { resolve, reject });
    port.postMessage({ type: "call", id, method, args } satisfies BridgeRequest);
  }

  /** A message from the port; false when it is not a bridge reply (the caller's own protocol). */
  onMessage(message: unknown): boolean {
    const m = message as BridgeReply | null;
    if (m?.type === "result") {
      const call = this.#inFlight.get(m.id);
      this.#inFlight.delete(m.id);
      if (m.ok) call?.resolve(m.value);
      else call?.reject(new RemoteError(m.error.name, m.error.message));
      return true;
    }
    if (m?.type === "events") {
      for (const fn of this.#listeners) fn(m.batch);
      return true;
    }
    return m?.type === "dropped" || m?.type === "refused";
  }

  /** A port to an engine that is ready: what waited is sent, and the live stream asked for. */
  connected(port: MessagePortLike): void {
    this.#port = port;
    if (this.#listeners.size > 0) port.postMessage({ type: "subscribe" });
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) this.#send(port, w.method, w.args, w.resolve, w.reject);
  }

  /** The engine's process ended: every call it had not answered fails with `why`; new calls wait. */
  disconnected(why: Error): void {
    this.#port = null;
    const calls = [...this.#inFlight.values()];
    this.#inFlight.clear();
    for (const c of calls) c.reject(why);
  }

  /** No engine will come: every call, waiting or in flight, fails with `why`, and so does any later one. */
  close(why: Error): void {
    this.disconnected(why);
    this.#closed = why;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.reject(why);
  }

  /** Calls sent and not answered. */
  get inFlight(): number {
    return this.#inFlight.size;
  }
}
