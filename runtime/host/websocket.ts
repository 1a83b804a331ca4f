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
  /** allowHalfOpen: `ws.accept({ allowHalfOpen: true })`, which never answers a close by itself. */
  accept(id: string, info: { hibernatable: boolean; tags: string[]; allowHalfOpen?: boolean }): void;
  attach(id: string, value: unknown): void;
}

export const READY_STATE = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

const MAX_ATTACHMENT_BYTES = 2048;

/**
 * Whether the runtime answers a peer's close frame by itself (workerd's
 * `web_socket_auto_reply_to_close`, default from 2026-04-07, turned off by
 * `web_socket_manual_reply_to_close`). Measured on workerd 1.20260426: it
 * applies to sockets on the standard API (`ws.accept()`) only; a
 * hibernatable socket (`ctx.acceptWebSocket`) and one accepted with
 * `allowHalfOpen` leave the answer to the object's `ws.close()` at every
 * date, the handler seeing readyState CLOSING.
 */
export function autoRepliesToClose(
  compatibilityDate: string,
  compatibilityFlags: readonly string[],
  socket: { hibernatable: boolean; allowHalfOpen?: boolean },
): boolean {
  if (socket.hibernatable || socket.allowHalfOpen) return false;
  if (compatibilityFlags.includes("web_socket_manual_reply_to_close")) return false;
  return compatibilityFlags.includes("web_socket_auto_reply_to_close") || compatibilityDate >= "2026-04-07";
}

/** Terrarium's own state of a socket, kept where user code does not look. */
export interface SocketState {
  readonly id: string;
  readonly role: "client" | "server";
  readyState: number;
  accepted: boolean;
  hibernatable: boolean;
  tags: string[];
  /**
   * The peer's close frame arrived and was not answered by the runtime:
   * until this end calls close(), readyState is CLOSING and send() still
   * reaches the peer (workerd without web_socket_auto_reply_to_close).
   */
  closeReceived: boolean;
  /** This end called close(). */
  closeSent: boolean;
  /** Accepted with `{ allowHalfOpen: true }`. */
  allowHalfOpen: boolean;
  attachment: unknown;
  /** When the orchestrator last auto-responded on this socket (ms since the epoch), for hibernatable ones. */
  autoResponseAt: number | null;
  readonly link: SocketLink | null;
}

/**
 * The key of a socket's SocketState. NOTE: not ordinary properties: as on
 * workerd, a WebSocket has no own properties, and libraries add their own
 * (PartyServer assigns `id`, `tags` and `state` to the server end).
 */
export const SOCKET = Symbol("terrarium.socket");

export class TerrariumWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static readonly READY_STATE_CONNECTING = 0;
  static readonly READY_STATE_OPEN = 1;
  static readonly READY_STATE_CLOSING = 2;
  static readonly READY_STATE_CLOSED = 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;
  declare readonly [SOCKET]: SocketState;

  constructor(id: string, role: "client" | "server", link: SocketLink | null) {
    super();
    Object.defineProperty(this, SOCKET, {
      value: {
        id,
        role,
        readyState: READY_STATE.OPEN,
        accepted: false,
        hibernatable: false,
        tags: [],
        closeReceived: false,
        closeSent: false,
        allowHalfOpen: false,
        attachment: undefined,
        autoResponseAt: null,
        link,
      } satisfies SocketState,
    });
  }

  get readyState(): number {
    return this[SOCKET].readyState;
  }

  get url(): string | null {
    return null;
  }

  get protocol(): string {
    return "";
  }

  get extensions(): string {
    return "";
  }

  /**
   * The standard API: events arrive on this object; the object cannot
   * hibernate meanwhile. `allowHalfOpen` keeps a peer's close unanswered
   * until this end calls close(), at every compatibility date.
   */
  accept(options?: { allowHalfOpen?: boolean }): void {
    const s = this[SOCKET];
    if (s.accepted) throw new TypeError("The WebSocket has already been accepted.");
    s.accepted = true;
    s.allowHalfOpen = options?.allowHalfOpen === true;
    s.link?.accept(s.id, { hibernatable: false, tags: [], allowHalfOpen: s.allowHalfOpen });
  }

  send(data: string | ArrayBuffer | ArrayBufferView): void {
    const s = this[SOCKET];
    if (!s.accepted)
      throw new TypeError(
        "You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.",
      );
    // A peer's unanswered close leaves the socket CLOSING, and sending still works (as on workerd).
    if (s.readyState !== READY_STATE.OPEN && !(s.closeReceived && !s.closeSent))
      throw new TypeError("Can't call WebSocket send() after close().");
    let payload: string | ArrayBuffer;
    if (typeof data === "string") payload = data;
    else if (data instanceof ArrayBuffer) payload = data.slice(0);
    else payload = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    s.link?.send(s.id, payload);
  }

  /** After the peer's unanswered close, close() answers it and the socket is CLOSED. */
  close(code?: number, reason?: string): void {
    // Codes no close frame may carry (RFC 6455): workerd refuses them (measured with 1005, the code of a
    // client's close without one, which a handler echoing `code` passes on).
    if (code !== undefined && (code < 1000 || code > 4999 || code === 1005 || code === 1006 || code === 1015))
      throw new DOMException(`Invalid WebSocket close code: ${code}.`, "InvalidAccessError");
    const s = this[SOCKET];
    if (s.closeSent || s.readyState === READY_STATE.CLOSED) return;
    if (s.readyState === READY_STATE.CLOSING && !s.closeReceived) return;
    s.closeSent = true;
    s.readyState = s.closeReceived ? READY_STATE.CLOSED : READY_STATE.CLOSING;
    s.link?.close(s.id, code, reason);
  }

  serializeAttachment(value: unknown): void {
    const s = this[SOCKET];
    const copy = structuredClone(value);
    s.attachment = copy;
    s.link?.attach(s.id, copy);
  }

  deserializeAttachment(): unknown {
    return structuredClone(this[SOCKET].attachment);
  }

  static checkAttachmentSize(bytes: number): void {
    if (bytes > MAX_ATTACHMENT_BYTES) {
      throw new RangeError(`A WebSocket 'attachment' cannot be larger than ${MAX_ATTACHMENT_BYTES} bytes.`);
    }
  }
}

// The ready-state constants are read from sockets too (`ws.OPEN`), as workerd has them on the prototype.
for (const [name, value] of Object.entries(READY_STATE)) {
  for (const key of [name, `READY_STATE_${name}`]) {
    Object.defineProperty(TerrariumWebSocket.prototype, key, { value, enumerable: true });
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
