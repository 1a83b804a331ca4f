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

export class TerrariumWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly id: string;
  readonly role: "client" | "server";
  readyState: number = READY_STATE.OPEN;
  url: string | null = null;
  protocol: string | null = null;
  extensions: string | null = null;
  accepted = false;
  hibernatable = false;
  tags: string[] = [];
  #attachment: unknown = undefined;
  #link: SocketLink | null;

  constructor(id: string, role: "client" | "server", link: SocketLink | null) {
    super();
    this.id = id;
    this.role = role;
    this.#link = link;
  }

  /** The standard API: events arrive on this object; the object cannot hibernate meanwhile. */
  accept(): void {
    if (this.accepted) throw new TypeError("The WebSocket has already been accepted.");
    this.accepted = true;
    this.#link?.accept(this.id, { hibernatable: false, tags: [] });
  }

  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (!this.accepted)
      throw new TypeError(
        "You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.",
      );
    if (this.readyState !== READY_STATE.OPEN)
      throw new TypeError("Can't call WebSocket send() after close().");
    let payload: string | ArrayBuffer;
    if (typeof data === "string") payload = data;
    else if (data instanceof ArrayBuffer) payload = data.slice(0);
    else payload = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    this.#link?.send(this.id, payload);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= READY_STATE.CLOSING) return;
    this.readyState = READY_STATE.CLOSING;
    this.#link?.close(this.id, code, reason);
  }

  serializeAttachment(value: unknown): void {
    const copy = structuredClone(value);
    this.#attachment = copy;
    this.#link?.attach(this.id, copy);
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

/** Node's own Response, kept before the worker's global is replaced by WorkersResponse. */
export const BaseResponse = globalThis.Response;

const upgrades = new WeakMap<object, TerrariumWebSocket>();

/** A body given as a string or bytes (the bytes copied now, as the constructor does); else undefined. */
function plainBodyOf(body: unknown): string | ArrayBuffer | undefined {
  if (typeof body === "string") return body;
  if (body instanceof ArrayBuffer) return body.slice(0);
  if (ArrayBuffer.isView(body))
    return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  return undefined;
}

/** A Response with these bytes as its body, which the caller owns and will not touch again (no copy, no stream yet). */
export function responseWithBytes(body: ArrayBuffer, init: ResponseInit): Response {
  const res = new WorkersResponse(null, init);
  lazyBodies.set(res, { body, stream: null });
  return res;
}

/**
 * Bodies a WorkersResponse was made with (a string or bytes), not yet
 * turned into a stream: undici builds a ReadableStream for every Response
 * with a body (~50 µs even in optimised code, more in a cold object's
 * thread), and most responses an object makes are sent on without anyone
 * reading them. The stream is made the first time code asks for the body.
 */
interface LazyBody {
  body: string | ArrayBuffer;
  /** A Response carrying the body as a stream, once someone asked for it. */
  stream: Response | null;
}

const lazyBodies = new WeakMap<object, LazyBody>();

/** Statuses whose responses have no body. */
export const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * The body of a Response as bytes without a stream, when it was made from a
 * string or bytes and no code has asked for its body; else undefined (read
 * it the usual way).
 */
export function plainBody(res: Response): ArrayBuffer | undefined {
  const lazy = lazyBodies.get(res);
  if (!lazy || lazy.stream) return undefined;
  lazyBodies.delete(res);
  return typeof lazy.body === "string"
    ? (new TextEncoder().encode(lazy.body).buffer as ArrayBuffer)
    : lazy.body;
}

/**
 * The Workers `Response`, which also takes status 101 with a `webSocket`
 * (Node's rejects any status below 200).
 */
export class WorkersResponse extends BaseResponse {
  constructor(
    body?: ConstructorParameters<typeof Response>[0],
    init?: ResponseInit & { webSocket?: TerrariumWebSocket | null },
  ) {
    const { webSocket, ...rest } = init ?? {};
    if (init?.status === 101) {
      if (!(webSocket instanceof TerrariumWebSocket))
        throw new RangeError("Responses with status 101 must have a webSocket.");
      super(null, { ...rest, status: 200 });
      upgrades.set(this, webSocket);
    } else {
      const plain = plainBodyOf(body);
      // A null-body status with a body goes to the constructor, which refuses it.
      const lazy = plain !== undefined && !(rest.status !== undefined && NULL_BODY_STATUS.has(rest.status));
      super(lazy ? null : body, rest);
      if (lazy) {
        // What the constructor would have added for a string body.
        if (typeof plain === "string" && !this.headers.has("content-type"))
          this.headers.set("content-type", "text/plain;charset=UTF-8");
        lazyBodies.set(this, { body: plain, stream: null });
      }
    }
  }

  get webSocket(): TerrariumWebSocket | null {
    return upgrades.get(this) ?? null;
  }

  static override json(data: unknown, init?: ResponseInit): WorkersResponse {
    const headers = new Headers(init?.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new WorkersResponse(JSON.stringify(data), { ...init, headers });
  }

  static override redirect(url: string | URL, status = 302): WorkersResponse {
    return new WorkersResponse(null, { status, headers: { location: new URL(url).href } });
  }
}

/** The Response that streams a lazy body, made on first use; null when the body is not lazy. */
function lazyStream(res: Response): Response | null {
  const lazy = lazyBodies.get(res);
  if (!lazy) return null;
  // With this response's headers: blob() and formData() read the content type from them.
  lazy.stream ??= new BaseResponse(typeof lazy.body === "string" ? lazy.body : lazy.body.slice(0), {
    headers: res.headers,
  });
  return lazy.stream;
}

// The body's accessors and readers, for a lazy body, go to the stream made
// on first use. (Defined on the prototype: TypeScript types them as fields.)
const baseProto = BaseResponse.prototype as unknown as Record<string, (this: Response) => unknown>;
for (const key of ["body", "bodyUsed"] as const) {
  const get = Object.getOwnPropertyDescriptor(BaseResponse.prototype, key)?.get;
  Object.defineProperty(WorkersResponse.prototype, key, {
    configurable: true,
    get(this: Response): unknown {
      const lazy = lazyBodies.get(this);
      if (!lazy) return get?.call(this);
      if (key === "bodyUsed") return lazy.stream?.bodyUsed ?? false;
      return lazyStream(this)!.body;
    },
  });
}
for (const key of ["text", "json", "arrayBuffer", "blob", "bytes", "formData"] as const) {
  const original = baseProto[key];
  if (typeof original !== "function") continue;
  Object.defineProperty(WorkersResponse.prototype, key, {
    configurable: true,
    writable: true,
    value(this: Response): unknown {
      const stream = lazyStream(this);
      return stream ? (stream as unknown as Record<string, () => unknown>)[key]!() : original.call(this);
    },
  });
}
const baseClone = baseProto.clone!;
Object.defineProperty(WorkersResponse.prototype, "clone", {
  configurable: true,
  writable: true,
  value(this: Response): unknown {
    const lazy = lazyBodies.get(this);
    if (!lazy) return baseClone.call(this);
    const copy = new WorkersResponse(null, {
      status: this.status,
      statusText: this.statusText,
      headers: this.headers,
    });
    // Unread, the copy shares the bytes; once read, the streams are teed as usual.
    lazyBodies.set(copy, { body: lazy.body, stream: lazy.stream ? lazy.stream.clone() : null });
    return copy;
  },
});

const baseStatus = Object.getOwnPropertyDescriptor(BaseResponse.prototype, "status")?.get;
Object.defineProperty(WorkersResponse.prototype, "status", {
  configurable: true,
  get(this: Response): number {
    return upgrades.has(this) ? 101 : (baseStatus?.call(this) as number);
  },
});

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
