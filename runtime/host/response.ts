import { fetchClasses, fetchLoaded, pendingPrototype, whenFetchLoaded } from "./fetch-classes.ts";
import type { SerializedResponse } from "./protocol.ts";
import { BUILD, plainHeader, unbuiltKind } from "./unbuilt.ts";
import { TerrariumWebSocket } from "./websocket.ts";

/**
 * The Workers `Response` inside a worker thread, and how it stays cheap.
 *
 * Node's Response (undici) costs tens of µs to construct and more to read,
 * in threads whose code V8 has not optimised yet (every object's thread when
 * there are many objects), and most responses are made once and handed back
 * unread: the object's `new Response(text)` goes to its caller, which passes
 * it on to the router. So a Response is built in two steps, each only when
 * needed:
 *
 * - An unbuilt response is a record (status, headers as the Headers object
 *   would list them, the body as a string or bytes) behind an object whose
 *   prototype chain holds Response.prototype. Status, ok, statusText, type,
 *   url, redirected and bodyUsed are answered from the record; anything else
 *   (headers, reading the body, a method of undici's that looks at its
 *   slots) builds the Response, whose slots then become the object's own.
 *   `new Response(body, init)` makes one when body is a string, bytes or
 *   null and init holds no more than a status and simple headers (anything
 *   else goes to the constructor as always, so what it refuses is refused);
 *   a response from another worker is one as it came over the wire.
 * - A built Response made from a string or bytes keeps that body aside (a
 *   "lazy body") and makes the ReadableStream only when code asks for it.
 *
 * Serializing either kind for another thread takes the string or bytes
 * directly (serializeResponse).
 *
 * Node's Response is undici's, which a worker loads only when something
 * needs it (fetch-classes.ts): until then WorkersResponse extends a
 * placeholder, re-parented onto Node's Response as undici loads, so an
 * object that answers with unbuilt responses never loads it.
 */

/** Node's own Response (the worker's global is WorkersResponse); loads undici. */
export function baseResponse(): typeof Response {
  return fetchClasses().Response;
}

/** Whether `value` is a Response: a WorkersResponse (built or not), or Node's own. */
export function isResponse(value: unknown): value is Response {
  return value instanceof WorkersResponse || (fetchLoaded() && value instanceof baseResponse());
}

/** Statuses whose responses have no body. */
export const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

const upgrades = new WeakMap<object, TerrariumWebSocket>();

/**
 * Responses made from a ReadableStream: their body goes to the other thread
 * as a stream (http-wire's `stream`), not read to the end first, so a body
 * written over time (Server-Sent Events) arrives as it is written.
 */
const streamed = new WeakSet<object>();

// ---- lazy bodies of built responses ----

interface LazyBody {
  body: string | ArrayBuffer;
  /** A Response carrying the body as a stream, once someone asked for it. */
  stream: Response | null;
  /** Serialized for another thread: used, as if read. */
  taken?: boolean;
}

const lazyBodies = new WeakMap<object, LazyBody>();

/** A body given as a string or bytes (the bytes copied now, as the constructor does); else undefined. */
function plainBodyOf(body: unknown): string | ArrayBuffer | undefined {
  if (typeof body === "string") return body;
  if (body instanceof ArrayBuffer) return body.slice(0);
  if (ArrayBuffer.isView(body))
    return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  return undefined;
}

const encodeBody = (body: string | ArrayBuffer): ArrayBuffer =>
  typeof body === "string" ? (new TextEncoder().encode(body).buffer as ArrayBuffer) : body;

/** A stream Response whose body has been read: what a consumed body looks like. */
function consumedStream(): Response {
  const res = new (baseResponse())("");
  // Reading marks the stream disturbed at once (bodyUsed); the promise is of no interest.
  res.arrayBuffer().catch(() => undefined);
  return res;
}

// ---- unbuilt responses ----

interface ResponseRecord {
  status: number;
  statusText: string;
  /** Lower-case names in order, as iterating the Headers object lists them. */
  headers: [string, string][];
  body: string | ArrayBuffer | null;
  /** The body was taken (serialized for another thread). */
  used: boolean;
}

/** Headers given as a plain object or a list of pairs, as the Headers object would list them; null if anything is unusual. */
function simpleHeaders(init: unknown): [string, string][] | null {
  const out: [string, string][] = [];
  if (Array.isArray(init)) {
    for (const pair of init as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) return null;
      const [name, value] = pair as unknown[];
      if (typeof name !== "string" || typeof value !== "string") return null;
      out.push([name.toLowerCase(), value]);
    }
  } else if (typeof init === "object" && init !== null && Object.getPrototypeOf(init) === Object.prototype) {
    if (Object.getOwnPropertySymbols(init).length > 0) return null;
    for (const name of Object.keys(init)) {
      const value = (init as Record<string, unknown>)[name];
      if (typeof value !== "string") return null;
      out.push([name.toLowerCase(), value]);
    }
  } else {
    return null;
  }
  for (const [name, value] of out) {
    if (!plainHeader(name, value)) return null;
  }
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 1; i < out.length; i++) if (out[i]![0] === out[i - 1]![0]) return null;
  return out;
}

/** The record for `new Response(body, init)` when both are simple; else null (the constructor does it). */
function simpleRecord(body: unknown, init: unknown): ResponseRecord | null {
  let plain: string | ArrayBuffer | null = null;
  if (body !== undefined && body !== null) {
    const p = plainBodyOf(body);
    if (p === undefined) return null;
    plain = p;
  }
  let status = 200;
  let headers: [string, string][] = [];
  if (init !== undefined) {
    if (typeof init !== "object" || init === null || Object.getPrototypeOf(init) !== Object.prototype)
      return null;
    for (const key in init) if (key !== "status" && key !== "headers") return null;
    const given = init as { status?: unknown; headers?: unknown };
    if (given.status !== undefined) {
      const s = given.status;
      if (typeof s !== "number" || !Number.isInteger(s) || s < 200 || s > 599) return null;
      status = s;
    }
    if (given.headers !== undefined) {
      const h = simpleHeaders(given.headers);
      if (!h) return null;
      headers = h;
    }
  }
  if (plain !== null && NULL_BODY_STATUS.has(status)) return null;
  if (typeof plain === "string" && !headers.some(([name]) => name === "content-type")) {
    // What the constructor adds for a string body, in its place in the order.
    const at = headers.findIndex(([name]) => name > "content-type");
    headers.splice(at < 0 ? headers.length : at, 0, ["content-type", "text/plain;charset=UTF-8"]);
  }
  return { status, statusText: "", headers, body: plain, used: false };
}

// ---- WorkersResponse ----

/**
 * WorkersResponse's parent until undici is loaded, then Node's Response
 * (never constructed: WorkersResponse loads undici before `super`).
 */
const PendingResponse = function Response(): never {
  throw new TypeError("Illegal constructor");
} as unknown as typeof Response;
Object.defineProperty(PendingResponse, "prototype", { value: pendingPrototype("Response") });
Object.defineProperty(PendingResponse, "error", {
  configurable: true,
  writable: true,
  value(this: unknown): Response {
    return (fetchClasses().Response.error as (this: unknown) => Response).call(this);
  },
});

/**
 * The members of a ResponseInit, read as the constructor reads them: by
 * property, so another Response works as the init (`new Response(body,
 * response)`, the usual way to copy one with its status and headers).
 */
function initFields(
  init: (ResponseInit & { webSocket?: TerrariumWebSocket | null }) | undefined,
): ResponseInit & { webSocket?: TerrariumWebSocket | null } {
  if (init === undefined || init === null) return {};
  if (Object.getPrototypeOf(init) === Object.prototype) return init;
  return {
    ...(init.status === undefined ? {} : { status: init.status }),
    ...(init.statusText === undefined ? {} : { statusText: init.statusText }),
    ...(init.headers === undefined ? {} : { headers: init.headers }),
    ...(init.webSocket === undefined ? {} : { webSocket: init.webSocket }),
  };
}

/**
 * The Workers `Response`, which also takes status 101 with a `webSocket`
 * (Node's rejects any status below 200).
 */
export class WorkersResponse extends PendingResponse {
  constructor(
    body?: ConstructorParameters<typeof Response>[0],
    init?: ResponseInit & { webSocket?: TerrariumWebSocket | null },
  ) {
    const record = new.target === WorkersResponse ? simpleRecord(body, init) : null;
    if (record) {
      const res = Object.create(unbuilt.proto) as WorkersResponse;
      unbuilt.records.set(res, record);
      return res;
    }
    const { webSocket, ...rest } = initFields(init);
    // Loads undici and re-parents this class onto Node's Response, which
    // `super` then calls.
    fetchClasses();
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
      if (body instanceof ReadableStream) streamed.add(this);
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
  if (lazy.taken) lazy.stream ??= consumedStream();
  // With this response's headers: blob() and formData() read the content type from them.
  lazy.stream ??= new (baseResponse())(typeof lazy.body === "string" ? lazy.body : lazy.body.slice(0), {
    headers: res.headers,
  });
  return lazy.stream;
}

whenFetchLoaded((c) => {
  Object.setPrototypeOf(WorkersResponse, c.Response);
  Object.setPrototypeOf(WorkersResponse.prototype, c.Response.prototype);
});

/** Node's Response.prototype, as a record of its members (loads undici). */
const baseProto = (): Record<string, (this: Response) => unknown> =>
  baseResponse().prototype as unknown as Record<string, (this: Response) => unknown>;
const baseGetters = new Map<string, ((this: Response) => unknown) | undefined>();
/** A getter of Node's Response.prototype (loads undici). */
function baseGetter(key: string): ((this: Response) => unknown) | undefined {
  if (!baseGetters.has(key))
    baseGetters.set(key, Object.getOwnPropertyDescriptor(baseResponse().prototype, key)?.get);
  return baseGetters.get(key);
}

// The body's accessors and readers, for a lazy body, go to the stream made
// on first use. (Defined on the prototype: TypeScript types them as fields.)
// A WorkersResponse whose own code runs here is built, so undici is loaded.
for (const key of ["body", "bodyUsed"] as const) {
  Object.defineProperty(WorkersResponse.prototype, key, {
    configurable: true,
    get(this: Response): unknown {
      const lazy = lazyBodies.get(this);
      if (!lazy) return baseGetter(key)?.call(this);
      if (key === "bodyUsed") return lazy.taken === true || (lazy.stream?.bodyUsed ?? false);
      return lazyStream(this)!.body;
    },
  });
}
const READERS = ["text", "json", "arrayBuffer", "blob", "bytes", "formData"] as const;
for (const key of READERS) {
  Object.defineProperty(WorkersResponse.prototype, key, {
    configurable: true,
    writable: true,
    value(this: Response): unknown {
      const stream = lazyStream(this);
      return stream
        ? (stream as unknown as Record<string, () => unknown>)[key]!()
        : baseProto()[key]!.call(this);
    },
  });
}
Object.defineProperty(WorkersResponse.prototype, "clone", {
  configurable: true,
  writable: true,
  value(this: Response): unknown {
    const lazy = lazyBodies.get(this);
    if (!lazy) return baseProto().clone!.call(this);
    // A taken body cannot be cloned: the consumed stream's clone() says so.
    if (lazy.taken) return lazyStream(this)!.clone();
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

Object.defineProperty(WorkersResponse.prototype, "status", {
  configurable: true,
  get(this: Response): number {
    return upgrades.has(this) ? 101 : (baseGetter("status")?.call(this) as number);
  },
});

// ---- the stand-ins of unbuilt responses ----

const unbuilt = unbuiltKind<ResponseRecord>({
  parent: WorkersResponse.prototype,
  loaded: (c) => ({ sample: new c.Response(null) }),
  make: (r) => new (baseResponse())(null, { status: r.status, statusText: r.statusText, headers: r.headers }),
  // The body is kept aside as a lazy one.
  adopted: (res, r) => {
    if (r.body !== null) lazyBodies.set(res, { body: r.body, stream: null, taken: r.used });
  },
  answers: {
    status: (r) => r.status,
    statusText: (r) => r.statusText,
    ok: (r) => r.status >= 200 && r.status <= 299,
    type: () => "default",
    url: () => "",
    redirected: () => false,
    bodyUsed: (r) => r.used && r.body !== null,
    body: (r) => (r.body === null ? null : BUILD),
  },
  // WorkersResponse's own readers look for a lazy body, which building sets aside.
  methods: [...READERS, "clone"],
});

// ---- to and from another thread ----

/**
 * The body of a Response made from a ReadableStream, when nothing has read
 * it yet: it is handed on as it is (see `streamed`); else undefined.
 */
export function streamedBody(res: Response): ReadableStream<Uint8Array> | undefined {
  if (!streamed.has(res) || res.bodyUsed || !res.body || res.body.locked) return undefined;
  return res.body as ReadableStream<Uint8Array>;
}

/**
 * Marks a response an outbound fetch() gave (outbound-fetch.ts): its body
 * arrives over time, so it is handed on as a stream, as a body made from a
 * ReadableStream is, never read in full first. A body built here (a mock's
 * answer) keeps going as bytes.
 */
export function markStreamed(res: Response): void {
  if (lazyBodies.has(res) || unbuilt.records.has(res)) return;
  streamed.add(res);
}

/**
 * A response as it came from another worker: unbuilt, its bytes (owned by
 * it) as the body; one whose body streams is a Response on that stream.
 */
export function responseFromWire(r: SerializedResponse): Response {
  if (r.stream) {
    return new WorkersResponse(r.stream, { status: r.status, statusText: r.statusText, headers: r.headers });
  }
  const res = Object.create(unbuilt.proto) as Response;
  unbuilt.records.set(res, {
    status: r.status,
    statusText: r.statusText,
    headers: r.headers,
    body: r.body !== null && r.body.byteLength > 0 ? r.body : null,
    used: false,
  });
  return res;
}

/**
 * The body of a Response as bytes without a stream, when it was made from a
 * string or bytes and no code has asked for its body; else undefined (read
 * it the usual way).
 */
export function plainBody(res: Response): ArrayBuffer | undefined {
  const lazy = lazyBodies.get(res);
  if (!lazy || lazy.stream || lazy.taken) return undefined;
  lazy.taken = true;
  return encodeBody(lazy.body);
}

/**
 * An unbuilt response as it goes over the wire, the body taken (a second
 * time it is refused, as reading a used body is); undefined for a built one.
 */
export function wireRecord(res: Response): SerializedResponse | undefined {
  const r = unbuilt.records.get(res);
  if (!r || (r.used && r.body !== null)) return undefined;
  let body: ArrayBuffer | null = null;
  if (r.body !== null) {
    body = encodeBody(r.body);
    r.used = true;
  } else if (!NULL_BODY_STATUS.has(r.status)) {
    body = new ArrayBuffer(0);
  }
  return { status: r.status, statusText: r.statusText, headers: r.headers, body };
}
