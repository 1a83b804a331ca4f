import type { SerializedRequest } from "./protocol.ts";

/**
 * Requests that arrive in a worker (from the router, or from another worker
 * on its way to an object) are handed to the code as a `Request` that is
 * built only when the code looks inside it. Node's Request (undici) costs
 * 40-100 µs to construct in a thread whose code V8 has not optimised yet,
 * which is every object's thread when there are many objects: it was a fifth
 * of an object's time per request with 100 live objects. Many handlers read
 * only `url` and `method`, or nothing, or pass the request on unread.
 *
 * A lazy request is an object whose prototype chain holds Request.prototype
 * (so `instanceof Request`, `Object.prototype.toString` and every method
 * work) with getters for the slots undici keeps its state in: the first time
 * anything reads one (a getter of Request.prototype, `new Request(req)`,
 * `fetch(req)`), the real Request is built from the record and its slots
 * become the lazy object's own, after which it is that Request in every
 * way. `url`, `method`, `bodyUsed` and a missing body are answered from the
 * record without building it, and passing an unread request without a body
 * on to another worker sends the record as it came.
 */

const BaseRequest = globalThis.Request;

/** The records of requests nobody has looked inside yet. */
const lazyRequests = new WeakMap<object, SerializedRequest>();

/** undici's slots on a Request instance (state, signal, headers, dispatcher): symbols, read off a real one. */
const SLOTS = Object.getOwnPropertySymbols(new BaseRequest("http://slots.invalid/"));

/** Methods the Request constructor keeps as they are (any other is normalised or refused by it). */
const PLAIN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
const NO_BODY_METHODS = new Set(["GET", "HEAD"]);
/** A header name the Headers constructor accepts (an HTTP token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value the Headers constructor would refuse or trim. */
const HEADER_VALUE_CHANGED = /[\0\r\n]|^[\t ]|[\t ]$/;

function materialize(req: object): void {
  const r = lazyRequests.get(req);
  if (!r) return;
  const init: RequestInit = { method: r.method, headers: r.headers };
  if (r.body !== null) init.body = r.body;
  const real = new BaseRequest(r.url, init) as unknown as Record<symbol, unknown>;
  for (const slot of SLOTS) {
    Object.defineProperty(req, slot, {
      value: real[slot],
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  lazyRequests.delete(req);
}

const lazyProto = Object.create(BaseRequest.prototype) as object;
for (const slot of SLOTS) {
  Object.defineProperty(lazyProto, slot, {
    configurable: true,
    get(this: Record<symbol, unknown>): unknown {
      materialize(this);
      return Object.hasOwn(this, slot) ? this[slot] : undefined;
    },
    set(this: object, value: unknown): void {
      materialize(this);
      Object.defineProperty(this, slot, { value, writable: true, enumerable: true, configurable: true });
    },
  });
}

function baseGetter(key: string): (this: unknown) => unknown {
  const get = Object.getOwnPropertyDescriptor(BaseRequest.prototype, key)?.get;
  if (!get) throw new Error(`Request.prototype.${key} is not an accessor in this Node version`);
  return get;
}

const fromRecord: Record<string, (r: SerializedRequest) => unknown> = {
  url: (r) => r.url,
  method: (r) => r.method,
  bodyUsed: () => false,
};
for (const [key, read] of Object.entries(fromRecord)) {
  const base = baseGetter(key);
  Object.defineProperty(lazyProto, key, {
    configurable: true,
    get(this: object): unknown {
      const r = lazyRequests.get(this);
      return r ? read(r) : base.call(this);
    },
  });
}
const baseBody = baseGetter("body");
Object.defineProperty(lazyProto, "body", {
  configurable: true,
  get(this: object): unknown {
    return lazyRequests.get(this)?.body === null ? null : baseBody.call(this);
  },
});

/**
 * A Request for this record, built when first looked inside. The record
 * must be one a Request would keep as it is (its url a serialised absolute
 * URL, as `new URL(...).href` and `request.url` give); any other is built at
 * once, so what the constructor refuses is refused here as before.
 */
export function lazyRequest(r: SerializedRequest): Request {
  const body = NO_BODY_METHODS.has(r.method) ? null : r.body;
  let plain = PLAIN_METHODS.has(r.method);
  for (let i = 0; plain && i < r.headers.length; i++) {
    const [name, value] = r.headers[i]!;
    plain = HEADER_NAME.test(name) && !HEADER_VALUE_CHANGED.test(value);
  }
  if (!plain) {
    const init: RequestInit = { method: r.method, headers: r.headers };
    if (body !== null) init.body = body;
    return new BaseRequest(r.url, init);
  }
  const req = Object.create(lazyProto) as Request;
  lazyRequests.set(req, { url: r.url, method: r.method, headers: r.headers, body });
  return req;
}

/** The record of a request nobody has looked inside and that has no body; else undefined. */
export function unreadRecord(req: Request): SerializedRequest | undefined {
  const r = lazyRequests.get(req);
  return r && r.body === null ? { url: r.url, method: r.method, headers: r.headers, body: null } : undefined;
}
