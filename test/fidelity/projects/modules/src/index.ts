// @ts-nocheck -- this project probes the runtime surface itself (modules and
// globals the Workers types do not declare, Node's hidden globals): what runs
// is what it compares with workerd.
// Non-JavaScript modules as wrangler bundles them, the cloudflare:* modules
// loading, and the Workers globals, compared with workerd.
import text from "./assets/hello.txt";
import html from "./assets/page.html";
import sql from "./assets/query.sql";
import notes from "./assets/notes.md";
import bytes from "./assets/bytes.bin";
import blob from "./assets/blob.dat";
import wasm from "./assets/add.wasm";
import wasmModule from "./assets/add.wasm?module";
import * as workers from "cloudflare:workers";
import * as email from "cloudflare:email";
import * as sockets from "cloudflare:sockets";
import * as workflows from "cloudflare:workflows";
import * as ai from "cloudflare:ai";
import * as br from "cloudflare:br";
import * as node from "cloudflare:node";
import * as pipelines from "cloudflare:pipelines";
import * as vectorize from "cloudflare:vectorize";

// Read at module load, as PartyServer does.
const OPEN = WebSocket.OPEN;

/** The Workers platform globals Terrarium provides (docs/compatibility.md: supported or partly). */
const GLOBALS = [
  "AbortController",
  "AbortSignal",
  "Blob",
  "ByteLengthQueuingStrategy",
  "Cache",
  "CacheStorage",
  "CloseEvent",
  "CompressionStream",
  "CountQueuingStrategy",
  "Crypto",
  "CryptoKey",
  "CustomEvent",
  "DOMException",
  "DecompressionStream",
  "ErrorEvent",
  "Event",
  "EventTarget",
  "File",
  "FinalizationRegistry",
  "FixedLengthStream",
  "FormData",
  "HTMLRewriter",
  "Headers",
  "IdentityTransformStream",
  "MessageChannel",
  "MessageEvent",
  "MessagePort",
  "Navigator",
  "PromiseRejectionEvent",
  "ReadableByteStreamController",
  "ReadableStream",
  "ReadableStreamBYOBReader",
  "ReadableStreamBYOBRequest",
  "ReadableStreamDefaultController",
  "ReadableStreamDefaultReader",
  "Request",
  "Response",
  "SubtleCrypto",
  "TextDecoder",
  "TextDecoderStream",
  "TextEncoder",
  "TextEncoderStream",
  "TransformStream",
  "TransformStreamDefaultController",
  "URL",
  "URLSearchParams",
  "WeakRef",
  "WebAssembly",
  "WebSocket",
  "WebSocketPair",
  "WebSocketRequestResponsePair",
  "WritableStream",
  "WritableStreamDefaultController",
  "WritableStreamDefaultWriter",
  "addEventListener",
  "atob",
  "btoa",
  "caches",
  "clearInterval",
  "clearTimeout",
  "console",
  "crypto",
  "dispatchEvent",
  "fetch",
  "navigator",
  "origin",
  "performance",
  "queueMicrotask",
  "removeEventListener",
  "reportError",
  "scheduler",
  "self",
  "setInterval",
  "setTimeout",
  "structuredClone",
];

const MODULES: Record<string, object> = {
  "cloudflare:workers": workers,
  "cloudflare:email": email,
  "cloudflare:sockets": sockets,
  "cloudflare:workflows": workflows,
  "cloudflare:ai": ai,
  "cloudflare:br": br,
  "cloudflare:node": node,
  "cloudflare:pipelines": pipelines,
  "cloudflare:vectorize": vectorize,
};

function describeBytes(value: unknown): unknown {
  if (!(value instanceof ArrayBuffer)) return { notAnArrayBuffer: Object.prototype.toString.call(value) };
  return { type: "ArrayBuffer", bytes: [...new Uint8Array(value)] };
}

function add(module: unknown, a: number, b: number): unknown {
  if (!(module instanceof WebAssembly.Module)) return { notAModule: Object.prototype.toString.call(module) };
  const instance = new WebAssembly.Instance(module);
  return (instance.exports.add as (x: number, y: number) => number)(a, b);
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/text":
        return Response.json({ text, html, sql, notes });
      case "/data":
        return Response.json({ bytes: describeBytes(bytes), blob: describeBytes(blob) });
      case "/wasm":
        return Response.json({ plain: add(wasm, 2, 3), withSuffix: add(wasmModule, 40, 2) });
      case "/modules":
        return Response.json(
          Object.fromEntries(Object.entries(MODULES).map(([name, m]) => [name, Object.keys(m).sort()])),
        );
      case "/globals": {
        const g = globalThis as Record<string, unknown>;
        return Response.json(Object.fromEntries(GLOBALS.map((name) => [name, typeof g[name]])));
      }
      case "/node-globals":
        return Response.json({
          process: typeof process,
          Buffer: typeof Buffer,
          setImmediate: typeof setImmediate,
          globalProcess: typeof globalThis.process,
        });
      case "/behaviour": {
        const pair = new WebSocketPair();
        const retry = new workflows.NonRetryableError("stop");
        const custom = new workflows.NonRetryableError("stop", "Halt");
        const mail = new email.EmailMessage("a@example.com", "b@example.com", "Subject: hi\r\n\r\nhello");
        const digest = new crypto.DigestStream("SHA-256");
        const writer = digest.getWriter();
        await writer.write(new TextEncoder().encode("abc"));
        await writer.close();
        const close = new CloseEvent("close", { code: 1001, reason: "away", wasClean: true });
        return Response.json({
          openAtLoad: OPEN,
          constants: [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
          instanceOf: [pair[0] instanceof WebSocket, pair[1] instanceof WebSocket],
          readyStates: [
            WebSocket.READY_STATE_OPEN,
            WebSocket.READY_STATE_CLOSED,
            pair[1].OPEN,
            pair[1].readyState,
          ],
          socket: [Object.getOwnPropertyNames(pair[1]), pair[1].url, pair[1].protocol, pair[1].extensions],
          userAgent: navigator.userAgent,
          selfIsGlobal: self === globalThis,
          nonRetryable: [retry.name, retry.message, retry instanceof Error, custom.name],
          email: [mail.from, mail.to, Object.keys(mail)],
          digest: [...new Uint8Array(await digest.digest)].slice(0, 8),
          closeEvent: [close.type, close.code, close.reason, close.wasClean],
          cacheMiss: (await caches.default.match("https://example.com/nothing-here")) === undefined,
          waited: await scheduler.wait(1).then(() => true),
          vectorize: [vectorize.DistanceMetric.COSINE, vectorize.MetadataRetrievalLevel.ALL],
          rpcPromise: (() => {
            try {
              new (workers.RpcPromise as unknown as new () => unknown)();
              return "constructed";
            } catch (e) {
              return String(e);
            }
          })(),
        });
      }
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
