import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { URLPattern } from "urlpattern-polyfill/urlpattern";
import { READY_STATE, TerrariumWebSocket } from "./websocket.ts";
import { unavailable } from "../workers-api/unavailable.ts";

type EventInit = NonNullable<ConstructorParameters<typeof Event>[1]>;
/** What the Cache API takes as a key. */
type CacheKey = Request | string | URL;

/**
 * The Workers globals that Node does not have, installed in every object
 * and entry worker thread before the project's code loads, so that code
 * written for workerd finds what it finds there (docs/compatibility.md lists
 * each one and how far it goes). What Terrarium cannot do throws a
 * NotAvailableInTerrariumError when used, never when the code loads.
 */

/**
 * `WebSocket`: the class of every socket Terrarium hands to user code
 * (`instanceof WebSocket` holds for both ends of a WebSocketPair), with the
 * ready-state constants under both of workerd's names (OPEN,
 * READY_STATE_OPEN). Outbound sockets (`new WebSocket(url)`) are not
 * available. NOTE: a socket's `constructor` stays TerrariumWebSocket: Node's
 * EventTarget recognises its instances by their constructor.
 */
function makeWebSocketClass(): typeof TerrariumWebSocket {
  const WebSocket = function WebSocket(): never {
    unavailable("new WebSocket(url) (outbound WebSocket clients)");
  };
  Object.defineProperty(WebSocket, "prototype", { value: TerrariumWebSocket.prototype });
  for (const [name, value] of Object.entries(READY_STATE)) {
    for (const key of [name, `READY_STATE_${name}`])
      Object.defineProperty(WebSocket, key, { value, enumerable: true });
  }
  return WebSocket as unknown as typeof TerrariumWebSocket;
}

class CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: EventInit & { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type, init);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? "";
    this.wasClean = init.wasClean ?? false;
  }
}

class ErrorEvent extends Event {
  readonly message: string;
  readonly filename: string;
  readonly lineno: number;
  readonly colno: number;
  readonly error: unknown;
  constructor(
    type: string,
    init: EventInit & {
      message?: string;
      filename?: string;
      lineno?: number;
      colno?: number;
      error?: unknown;
    } = {},
  ) {
    super(type, init);
    this.message = init.message ?? "";
    this.filename = init.filename ?? "";
    this.lineno = init.lineno ?? 0;
    this.colno = init.colno ?? 0;
    this.error = init.error;
  }
}

class PromiseRejectionEvent extends Event {
  readonly promise: Promise<unknown>;
  readonly reason: unknown;
  constructor(type: string, init: EventInit & { promise: Promise<unknown>; reason?: unknown }) {
    super(type, init);
    this.promise = init.promise;
    this.reason = init.reason;
  }
}

class Navigator {
  get userAgent(): string {
    return "Cloudflare-Workers";
  }
  get hardwareConcurrency(): number {
    return 1;
  }
  sendBeacon(): boolean {
    return unavailable("navigator.sendBeacon()");
  }
}

/**
 * The Cache API as on a workers.dev route: every call succeeds and nothing
 * is stored, so `match` always misses. Code that caches stays correct, only
 * uncached.
 */
class Cache {
  async match(_request: CacheKey, _options?: unknown): Promise<Response | undefined> {
    return undefined;
  }
  async matchAll(_request?: CacheKey, _options?: unknown): Promise<Response[]> {
    return [];
  }
  async put(_request: CacheKey, response: Response): Promise<void> {
    if (!(response instanceof Response)) throw new TypeError("Cache.put() takes a Response.");
  }
  async add(_request: CacheKey): Promise<void> {}
  async addAll(_requests: CacheKey[]): Promise<void> {}
  async delete(_request: CacheKey, _options?: unknown): Promise<boolean> {
    return false;
  }
  async keys(_request?: CacheKey, _options?: unknown): Promise<Request[]> {
    return [];
  }
}

class CacheStorage {
  readonly #default = new Cache();
  readonly #named = new Map<string, Cache>();
  get default(): Cache {
    return this.#default;
  }
  async open(name: string): Promise<Cache> {
    let c = this.#named.get(String(name));
    if (!c) {
      c = new Cache();
      this.#named.set(String(name), c);
    }
    return c;
  }
  async has(name: string): Promise<boolean> {
    return this.#named.has(String(name));
  }
  async delete(name: string): Promise<boolean> {
    return this.#named.delete(String(name));
  }
  async keys(): Promise<string[]> {
    return [...this.#named.keys()];
  }
  async match(_request: CacheKey, _options?: unknown): Promise<Response | undefined> {
    return undefined;
  }
}

/**
 * HTMLRewriter: handlers can be registered (so a rewriter built at module
 * scope loads), but `transform` is not available in Terrarium.
 */
class HTMLRewriter {
  on(_selector: string, _handlers: unknown): this {
    return this;
  }
  onDocument(_handlers: unknown): this {
    return this;
  }
  transform(_response: Response): Response {
    return unavailable("HTMLRewriter.transform()");
  }
}

/** A TransformStream that passes bytes through unchanged. */
class IdentityTransformStream extends TransformStream<Uint8Array, Uint8Array> {}

/** An IdentityTransformStream that errors unless exactly `length` bytes pass through it. */
class FixedLengthStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(length: number | bigint) {
    const expected = Number(length);
    if (!Number.isSafeInteger(expected) || expected < 0)
      throw new TypeError("FixedLengthStream requires a non-negative integer length.");
    let seen = 0;
    super({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > expected)
          throw new TypeError("Attempt to write too many bytes through a FixedLengthStream.");
        controller.enqueue(chunk);
      },
      flush() {
        if (seen < expected)
          throw new TypeError("FixedLengthStream did not see all expected bytes before close().");
      },
    });
  }
}

const DIGESTS: Record<string, string> = {
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
  MD5: "md5",
};

/** `crypto.DigestStream`: a WritableStream whose `digest` resolves with the hash of what was written. */
class DigestStream extends WritableStream<ArrayBuffer | ArrayBufferView> {
  readonly digest: Promise<ArrayBuffer>;
  constructor(algorithm: string | { name: string }) {
    const name = (typeof algorithm === "string" ? algorithm : algorithm.name).toUpperCase();
    const nodeName = DIGESTS[name];
    if (!nodeName) throw new DOMException(`Unrecognized digest algorithm: ${name}`, "NotSupportedError");
    const hash = createHash(nodeName);
    let settle!: { resolve: (b: ArrayBuffer) => void; reject: (e: unknown) => void };
    const digest = new Promise<ArrayBuffer>((resolve, reject) => (settle = { resolve, reject }));
    super({
      write(chunk) {
        if (chunk instanceof ArrayBuffer) hash.update(new Uint8Array(chunk));
        else if (ArrayBuffer.isView(chunk))
          hash.update(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        else throw new TypeError("DigestStream takes ArrayBuffer or ArrayBufferView chunks.");
      },
      close() {
        const b = hash.digest();
        settle.resolve(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
      },
      abort(reason) {
        settle.reject(reason);
      },
    });
    digest.catch(() => {});
    this.digest = digest;
  }
}

const scheduler = {
  /** Resolves after `ms` milliseconds (rejects if `signal` aborts first), as workerd's scheduler.wait. */
  wait(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    return sleep(
      Math.max(0, Number(ms) || 0),
      undefined,
      options.signal ? { signal: options.signal } : undefined,
    );
  },
};

let rejectionsReported = false;

/**
 * Installs the Workers globals on this thread's globalThis. `compatibilityFlags`
 * fills `Cloudflare.compatibilityFlags` for the flags the project sets.
 */
export function installWorkersGlobals(compatibilityFlags: readonly string[] = []): void {
  const g = globalThis as Record<string, unknown>;
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  };
  define("WebSocket", makeWebSocketClass());
  define("CloseEvent", CloseEvent);
  define("ErrorEvent", ErrorEvent);
  define("PromiseRejectionEvent", PromiseRejectionEvent);
  define("Navigator", Navigator);
  define("navigator", new Navigator());
  define("Cache", Cache);
  define("CacheStorage", CacheStorage);
  define("caches", new CacheStorage());
  define("HTMLRewriter", HTMLRewriter);
  define("IdentityTransformStream", IdentityTransformStream);
  define("FixedLengthStream", FixedLengthStream);
  define("scheduler", scheduler);
  const crypto = g.crypto as Record<string, unknown>;
  if (!("DigestStream" in crypto)) Object.defineProperty(crypto, "DigestStream", { value: DigestStream });

  // The service-worker global scope is an EventTarget: `addEventListener("error", ...)`
  // sees what reportError reports.
  const scope = new EventTarget();
  define("addEventListener", scope.addEventListener.bind(scope));
  define("removeEventListener", scope.removeEventListener.bind(scope));
  define("dispatchEvent", scope.dispatchEvent.bind(scope));
  define("reportError", (error: unknown) => {
    const message = `Uncaught ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    const event = new ErrorEvent("error", { message, error, cancelable: true });
    if (scope.dispatchEvent(event)) console.error(message);
  });
  define("self", globalThis);
  // Node 20 has no URLPattern; workerd's follows the same WHATWG spec as this one.
  define("URLPattern", URLPattern);
  // As in workerd, where a Worker has no origin of its own.
  define("origin", "null");
  if (!rejectionsReported) {
    rejectionsReported = true;
    // As workerd: an unhandled rejection is reported (an "unhandledrejection"
    // event, else a log line); it does not end the Worker or the object.
    process.on("unhandledRejection", (reason, promise) => {
      const event = new PromiseRejectionEvent("unhandledrejection", { promise, reason, cancelable: true });
      const dispatch = (globalThis as { dispatchEvent?: (e: Event) => boolean }).dispatchEvent;
      if (!dispatch || dispatch(event)) console.error("Uncaught (in promise)", reason);
    });
  }
  define("Cloudflare", {
    compatibilityFlags: Object.freeze(Object.fromEntries(compatibilityFlags.map((f) => [f, true]))),
  });
}
