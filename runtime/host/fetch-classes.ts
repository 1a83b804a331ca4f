/**
 * Node's fetch classes (Request, Response, Headers, FormData, and fetch
 * itself), loaded only when something needs them.
 *
 * Node 20 ships them in undici, which it loads on the first read of one of
 * those globals; undici brings http, http2, tls, zlib and more with it. In
 * a worker thread that is about 2.9 MiB of RSS, more than a third of what
 * Terrarium's own code costs per object worker. Most objects never need it:
 * a request handed to an object is an unbuilt stand-in until the code looks
 * inside it (lazy-request.ts), and `new Response(text)` is an unbuilt
 * record (response.ts). So neither module reads the globals when it loads:
 * the stand-ins' prototypes extend a placeholder (`pendingPrototype`), and
 * once undici is loaded, by whatever reads it first, every prototype
 * waiting for it is re-parented onto the real one (`whenFetchLoaded`).
 *
 * `guardFetchGlobals` (run as this module loads, in whichever thread)
 * replaces Node's lazy getters with ones that go through `fetchClasses()`,
 * so that the hooks run whichever global is read first.
 */

export interface FetchClasses {
  Request: typeof Request;
  Response: typeof Response;
  Headers: typeof Headers;
  FormData: typeof FormData;
}

/** The globals Node 20 defines as lazy getters on undici (MessageEvent is one too). */
const LAZY_GLOBALS = ["Request", "Response", "Headers", "FormData", "MessageEvent"] as const;
type LazyGlobal = (typeof LAZY_GLOBALS)[number];

/**
 * What each global was when this module loaded: Node's lazy getter, or
 * (undici already loaded, as in the orchestrator's thread) the class.
 */
const nodeGlobals = new Map<LazyGlobal, PropertyDescriptor>();
for (const name of LAZY_GLOBALS) {
  const d = Object.getOwnPropertyDescriptor(globalThis, name);
  if (d) nodeGlobals.set(name, d);
}

let loaded: FetchClasses | null = null;
let loading = false;
const hooks: ((c: FetchClasses) => void)[] = [];
/** The getters guardFetchGlobals installed (to know a global still holds one). */
const guards = new Set<unknown>();

/** Node's own value for a global, read through its original getter (which loads undici). */
function nodeValue(name: LazyGlobal): unknown {
  const d = nodeGlobals.get(name);
  if (!d) return undefined;
  return d.get ? d.get.call(globalThis) : d.value;
}

/**
 * Node's fetch classes, loading undici the first time; every hook waiting
 * for them runs before this returns. The globals are left as they were
 * (a global replaced by Terrarium, as Response is, stays replaced).
 */
export function fetchClasses(): FetchClasses {
  if (loaded) return loaded;
  if (loading) throw new Error("fetchClasses() called again while undici is loading");
  loading = true;
  try {
    const g = globalThis as Record<string, unknown>;
    const before = new Map(LAZY_GLOBALS.map((name) => [name, Object.getOwnPropertyDescriptor(g, name)]));
    const classes: FetchClasses = {
      Request: nodeValue("Request") as typeof Request,
      Response: nodeValue("Response") as typeof Response,
      Headers: nodeValue("Headers") as typeof Headers,
      FormData: nodeValue("FormData") as typeof FormData,
    };
    const messageEvent = nodeValue("MessageEvent");
    // Node's getters define the globals as they load; put back what was
    // there, and in place of a guard, Node's class.
    for (const [name, d] of before) {
      if (!d) continue;
      if (d.get && guards.has(d.get)) {
        const real = name === "MessageEvent" ? messageEvent : classes[name];
        Object.defineProperty(g, name, {
          value: real,
          writable: true,
          configurable: true,
          enumerable: false,
        });
      } else {
        Object.defineProperty(g, name, d);
      }
    }
    loaded = classes;
  } finally {
    loading = false;
  }
  for (const hook of hooks.splice(0)) hook(loaded);
  return loaded;
}

/** Whether undici has been loaded through fetchClasses(). */
export function fetchLoaded(): boolean {
  return loaded !== null;
}

/** Runs `fn` once the fetch classes are loaded (at once if they are). */
export function whenFetchLoaded(fn: (c: FetchClasses) => void): void {
  if (loaded) fn(loaded);
  else hooks.push(fn);
}

/**
 * Makes every way into undici on this thread's globals go through
 * fetchClasses(): the lazy getters of Request, Response, Headers, FormData
 * and MessageEvent, and fetch. Assigning a global replaces the guard, as it
 * replaces Node's getter.
 */
let guarded = false;
export function guardFetchGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  if (loaded || guarded) return;
  guarded = true;
  for (const name of LAZY_GLOBALS) {
    const d = Object.getOwnPropertyDescriptor(g, name);
    if (!d?.get) continue;
    const get = function (): unknown {
      fetchClasses();
      return g[name];
    };
    guards.add(get);
    Object.defineProperty(g, name, {
      configurable: true,
      enumerable: d.enumerable ?? false,
      get,
      set(value: unknown) {
        Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
      },
    });
  }
  const nodeFetch = g.fetch;
  if (typeof nodeFetch === "function") {
    const fetch = function fetch(this: unknown, input: unknown, init?: unknown): unknown {
      fetchClasses();
      return (nodeFetch as (i: unknown, n?: unknown) => unknown).call(this, input, init);
    };
    const d = Object.getOwnPropertyDescriptor(g, "fetch");
    Object.defineProperty(g, "fetch", { ...d, value: fetch });
  }
}

/**
 * A prototype to stand in for `name`'s (Request or Response) until undici
 * is loaded: each of the real prototype's members is an accessor that loads
 * it and answers from the real prototype, with the object it was asked on
 * as the receiver (by then `hooks` have re-parented whatever extends this
 * onto the real prototype). Keys the real prototype does not have are not
 * here, so looking for them (a `then`, when a response is awaited) loads
 * nothing. The member lists are Node 20's undici's (a unit test compares
 * them with the real prototypes).
 */
export function pendingPrototype(name: "Request" | "Response"): object {
  const proto = Object.create(Object.prototype) as object;
  for (const key of name === "Request" ? REQUEST_MEMBERS : RESPONSE_MEMBERS) {
    Object.defineProperty(proto, key, {
      configurable: true,
      enumerable: false,
      get(this: object): unknown {
        const real = fetchClasses()[name].prototype;
        return Reflect.get(real, key, this);
      },
    });
  }
  return proto;
}

const BODY_MEMBERS: (string | symbol)[] = [
  "body",
  "bodyUsed",
  "clone",
  "blob",
  "arrayBuffer",
  "text",
  "json",
  "formData",
  "bytes",
  "headers",
  "url",
  Symbol.toStringTag,
  Symbol.for("nodejs.util.inspect.custom"),
];

/** The members of Request.prototype (besides constructor). */
export const REQUEST_MEMBERS: readonly (string | symbol)[] = [
  ...BODY_MEMBERS,
  "method",
  "destination",
  "referrer",
  "referrerPolicy",
  "mode",
  "credentials",
  "cache",
  "redirect",
  "integrity",
  "keepalive",
  "isReloadNavigation",
  "isHistoryNavigation",
  "signal",
  "duplex",
  "attribute",
];

/** The members of Response.prototype (besides constructor). */
export const RESPONSE_MEMBERS: readonly (string | symbol)[] = [
  ...BODY_MEMBERS,
  "type",
  "redirected",
  "status",
  "ok",
  "statusText",
];

guardFetchGlobals();
