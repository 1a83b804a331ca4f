import type { SerializedRequest } from "./protocol.ts";
import { fetchClasses, pendingPrototype } from "./fetch-classes.ts";
import { BUILD, plainHeader, unbuiltKind } from "./unbuilt.ts";

/**
 * Requests that arrive in a worker (from the router, or from another worker
 * on its way to an object) are handed to the code as a `Request` that is
 * built only when the code looks inside it. Node's Request (undici) costs
 * 40-100 µs to construct in a thread whose code V8 has not optimised yet,
 * which is every object's thread when there are many objects: it was a fifth
 * of an object's time per request with 100 live objects. Many handlers read
 * only `url` and `method`, or nothing, or pass the request on unread.
 *
 * A lazy request stands for the Request until anything looks inside it (a
 * getter of Request.prototype, `new Request(req)`, `fetch(req)`), which
 * builds it (unbuilt.ts has the mechanism, shared with responses).
 * `url`, `method`, `bodyUsed` and a missing body are answered from the
 * record without building it, and passing an unread request without a body
 * on to another worker sends the record as it came. Until something needs
 * Node's Request, the stand-ins extend a placeholder of its prototype, so a
 * worker whose code never looks inside a request never loads undici
 * (fetch-classes.ts).
 */

/** Methods the Request constructor keeps as they are (any other is normalised or refused by it). */
const PLAIN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
/** Methods whose requests have no body. */
export const NO_BODY_METHODS = new Set(["GET", "HEAD"]);

function buildRequest(r: SerializedRequest): Request {
  const init: RequestInit = { method: r.method, headers: r.headers };
  if (r.body !== null) init.body = r.body;
  return new (fetchClasses().Request)(r.url, init);
}

const unbuilt = unbuiltKind<SerializedRequest>({
  parent: pendingPrototype("Request"),
  loaded: (c) => ({ sample: new c.Request("http://slots.invalid/"), parent: c.Request.prototype }),
  make: buildRequest,
  answers: {
    url: (r) => r.url,
    method: (r) => r.method,
    bodyUsed: () => false,
    body: (r) => (r.body === null ? null : BUILD),
  },
});

/**
 * A Request for this record, built when first looked inside. The record
 * must be one a Request would keep as it is (its url a serialised absolute
 * URL, as `new URL(...).href` and `request.url` give); any other is built at
 * once, so what the constructor refuses is refused here as before.
 */
export function lazyRequest(r: SerializedRequest): Request {
  const record = { ...r, body: NO_BODY_METHODS.has(r.method) ? null : r.body };
  const plain = PLAIN_METHODS.has(r.method) && r.headers.every(([name, value]) => plainHeader(name, value));
  if (!plain) return buildRequest(record);
  const req = Object.create(unbuilt.proto) as Request;
  unbuilt.records.set(req, record);
  return req;
}

/** The record of a request nobody has looked inside and that has no body; else undefined. */
export function unreadRecord(req: Request): SerializedRequest | undefined {
  const r = unbuilt.records.get(req);
  return r && r.body === null ? { url: r.url, method: r.method, headers: r.headers, body: null } : undefined;
}
