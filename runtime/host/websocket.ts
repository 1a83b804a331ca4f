import { randomUUID } from "node:crypto";

/**
 * Durable Object WebSockets inside a worker thread. The real connection is
 * held by the orchestrator (so it survives hibernation); here each socket is
 * a handle that sends through the gateway and receives events the
 * orchestrator delivers. `WebSocketPair` gives a client handle (returned in
 * a 101 Response) and a server handle (accepted by the object).
 */
export interface SocketLink {
  send(id: string, data: string | ArrayBuffer): void;
  close(id: string, code: number | undefined, reason: string | undefined): void;
  accept(id: string, info: { hibernatable: boolean; tags: string[] }): void;
  attach(id: string, value: unknown): void;
}

export const READY_STATE = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

const MAX_ATTACHMENT_BYTES = 2048;

/**
 * What Terrarium keeps about one socket handle. It lives outside the
 * object user code sees: libraries put their own fields on sockets
 * (PartyServer assigns `id`, `tags`, `uri`, `state` to the server end), and
 * a field of ours with the same name would be overwritten.
 */
export interface SocketState {
  /** The hub's id for the connection (both ends of a pair share it). */
  readonly id: string;
  readonly role: "client" | "server";
  accepted: boolean;
  hibernatable: boolean;
  tags: string[];
}

export class TerrariumWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  // workerd's own names for the same values (PartyServer compares with these).
  static readonly READY_STATE_CONNECTING = 0;
  static readonly READY_STATE_OPEN = 1;
  static readonly READY_STATE_CLOSING = 2;
  static readonly READY_STATE_CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState: number = READY_STATE.OPEN;
  url: string | null = null;
  protocol: string | null = null;
  extensions: string | null = null;
  readonly #state: SocketState;
  #attachment: unknown = undefined;
  #link: SocketLink | null;

  constructor(id: string, role: "client" | "server", link: SocketLink | null) {
    super();
    this.#state = { id, role, accepted: false, hibernatable: false, tags: [] };
    this.#link = link;
  }

  /** Terrarium's bookkeeping for `ws`; a TypeError when `ws` is not a socket Terrarium made. */
  static state(ws: unknown): SocketState {
    if (!TerrariumWebSocket.is(ws)) throw new TypeError("Expected a WebSocket.");
    return ws.#state;
  }

  /** True for sockets Terrarium made (a brand check: a look-alike object is not one). */
  static is(ws: unknown): ws is TerrariumWebSocket {
    return typeof ws === "object" && ws !== null && #state in ws;
  }

  /** The standard API: events arrive on this object; the object cannot hibernate meanwhile. */
  accept(): void {
    const state = this.#state;
    if (state.accepted) throw new TypeError("The WebSocket has already been accepted.");
    state.accepted = true;
    this.#link?.accept(state.id, { hibernatable: false, tags: [] });
  }

  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (!this.#state.accepted)
      throw new TypeError(
        "You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.",
      );
    if (this.readyState !== READY_STATE.OPEN)
      throw new TypeError("Can't call WebSocket send() after close().");
    let payload: string | ArrayBuffer;
    if (typeof data === "string") payload = data;
    else if (data instanceof ArrayBuffer) payload = data.slice(0);
    else payload = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    this.#link?.send(this.#state.id, payload);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= READY_STATE.CLOSING) return;
    this.readyState = READY_STATE.CLOSING;
    this.#link?.close(this.#state.id, code, reason);
  }

  serializeAttachment(value: unknown): void {
    const copy = structuredClone(value);
    this.#attachment = copy;
    this.#link?.attach(this.#state.id, copy);
  }

  deserializeAttachment(): unknown {
    return structuredClone(this.#attachment);
  }

  /** Restores what the orchestrator kept while the object hibernated. */
  restore(attachment: unknown): void {
    this.#attachment = attachment;
  }

  static checkAttachmentSize(bytes: number): void {
    if (bytes > MAX_ATTACHMENT_BYTES) {
      throw new RangeError(`A WebSocket 'attachment' cannot be larger than ${MAX_ATTACHMENT_BYTES} bytes.`);
    }
  }
}

/** `new WebSocketPair()`: [client, server], with the same id on both ends. */
export function makeWebSocketPairClass(
  link: SocketLink,
  onCreate: (server: TerrariumWebSocket) => void,
): new () => { 0: TerrariumWebSocket; 1: TerrariumWebSocket } {
  return class WebSocketPair {
    0: TerrariumWebSocket;
    1: TerrariumWebSocket;
    constructor() {
      const id = randomUUID();
      this[0] = new TerrariumWebSocket(id, "client", null);
      this[1] = new TerrariumWebSocket(id, "server", link);
      onCreate(this[1]);
    }
  };
}

export class WebSocketRequestResponsePair {
  readonly request: string;
  readonly response: string;
  constructor(request: string, response: string) {
    if (typeof request !== "string" || typeof response !== "string") {
      throw new TypeError("WebSocketRequestResponsePair takes a request string and a response string.");
    }
    this.request = request;
    this.response = response;
  }
}

/** A MessageEvent-like event for the standard API. */
export function messageEvent(data: string | ArrayBuffer): Event {
  const e = new Event("message");
  Object.defineProperty(e, "data", { value: data });
  return e;
}

export function closeEvent(code: number, reason: string, wasClean: boolean): Event {
  const e = new Event("close");
  Object.defineProperties(e, {
    code: { value: code },
    reason: { value: reason },
    wasClean: { value: wasClean },
  });
  return e;
}
