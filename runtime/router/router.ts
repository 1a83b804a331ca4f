import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import type { RouteConfig } from "../config/terrarium.ts";
import type { SerializedRequest, SerializedResponse } from "../host/protocol.ts";
import type { LifecycleManager } from "../lifecycle/lifecycle.ts";
import { ObjectError } from "../shared/errors.ts";
import type { AssetRouting } from "./assets.ts";
import { EMAIL_HANDLER_PATH, emailTrigger } from "./email-trigger.ts";
import { isTriggerPath, scheduledTrigger } from "./scheduled-trigger.ts";
import { compileRoute, matchRoute, type CompiledRoute } from "./routes.ts";
import { traceRequest } from "./trace-request.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import type { SocketHub } from "./sockets.ts";

const MAX_BODY_BYTES = 100 * 1024 * 1024;
/** How long answers written while closing get to reach their clients, and connections to end. */
const FLUSH_MS = 500;

function readBody(req: IncomingMessage): Promise<ArrayBuffer | null> {
  if (req.method === "GET" || req.method === "HEAD") {
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      if (size > MAX_BODY_BYTES) return;
      size += c.byteLength;
      if (size > MAX_BODY_BYTES) {
        // NOTE: the rest is read and dropped rather than refused by closing the
        // connection: a client still sending would meet a reset, not the 413.
        chunks = [];
        reject(new ObjectError("request body too large (100 MB limit, as on Cloudflare's free plan)", 413));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      const buf = Buffer.concat(chunks);
      resolve(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
    });
    req.on("error", reject);
  });
}

function toHeaders(req: IncomingMessage): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    out.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
  }
  return out;
}

/**
 * Writes a streamed body (SerializedResponse.stream) chunk by chunk as the
 * code writes it; the client going away cancels the stream, so the code's
 * next write rejects, as on workerd. A stream that errors ends the
 * connection without the final chunk, so the client sees the body cut.
 */
async function pipeBody(stream: ReadableStream<Uint8Array>, res: ServerResponse): Promise<void> {
  const reader = stream.getReader();
  let finished = false;
  const onClose = (): void => {
    // workerd's writer sees its write rejected with no reason.
    if (!finished) void reader.cancel().catch(() => {});
  };
  res.once("close", onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = (): void => {
            res.off("drain", go);
            res.off("close", go);
            resolve();
          };
          res.on("drain", go);
          res.on("close", go);
        });
      }
    }
    finished = true;
    res.end();
  } catch {
    finished = true;
    res.destroy();
  } finally {
    res.off("close", onClose);
  }
}

/** All of a streamed body (an answer that cannot be streamed on, such as an upgrade refused). */
export async function streamBytes(stream: ReadableStream<Uint8Array>): Promise<ArrayBuffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  const buf = Buffer.concat(chunks);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** A plain HTTP answer written on a raw socket (an upgrade that is not one). */
function refusal(status: number, body: string): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${body}`;
}

/**
 * What the router needs of the Lifecycle Manager: one call for a routed
 * request (it finds the class, the shard and the id), one for the rest.
 */
export type RouteTarget = Pick<LifecycleManager, "routedFetch" | "entryFetch"> &
  /** Runs the entry Worker's other handlers (email(), scheduled()); absent: those paths go to fetch. */
  Partial<Pick<LifecycleManager, "entryCall">> & {
    /** Where traces go (docs/traces.md); absent or null: requests are not traced. */
    readonly tracer?: LifecycleManager["tracer"];
  };

/**
 * The Request Router: the project's HTTP server on 127.0.0.1. Static
 * assets answer first where Cloudflare's would (see AssetRouting); a
 * request that matches a route declared in terrarium.json goes straight to
 * the object it names; everything else goes to the project's entry Worker.
 */
export class RequestRouter {
  readonly #lifecycle: RouteTarget;
  /** `/__scheduled` runs scheduled() (serve --test-scheduled, as wrangler dev's flag); else it goes to fetch. */
  testScheduled = false;
  #routes: CompiledRoute[];
  #assets: AssetRouting | null = null;
  #server: Server | null = null;
  #closed: Promise<void> | null = null;
  /** Set once the router stops accepting: requests still arriving on open connections get a 503. */
  #stopping = false;
  /** Requests being answered, and WebSocket upgrades being decided. */
  readonly #pending = new Set<ServerResponse>();
  readonly #upgrading = new Set<Duplex>();

  readonly #sockets: SocketHub;

  constructor(
    lifecycle: RouteTarget,
    routes: readonly RouteConfig[],
    sockets: SocketHub,
    assets: AssetRouting | null = null,
  ) {
    this.#lifecycle = lifecycle;
    this.#assets = assets;
    this.#routes = routes.map(compileRoute);
    this.#sockets = sockets;
  }

  /** A WebSocket upgrade is routed like any request; a 101 answer hands the socket to the client. */
  async #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    if (this.#stopping) {
      socket.end(refusal(503, "Terrarium is shutting down\n"), () => socket.destroy());
      return;
    }
    this.#upgrading.add(socket);
    try {
      await this.#upgrade(req, socket, head);
    } finally {
      this.#upgrading.delete(socket);
    }
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let out: SerializedResponse;
    try {
      const host = req.headers.host ?? "127.0.0.1";
      out = await this.handle({
        url: `http://${host}${req.url ?? "/"}`,
        method: req.method ?? "GET",
        headers: toHeaders(req),
        body: null,
      });
    } catch (e) {
      const status = e instanceof ObjectError ? e.status : 500;
      const message = e instanceof Error ? e.message : String(e);
      if (socket.writable) socket.end(refusal(status, `${message}\n`));
      return;
    }
    // Cut short by close(): the client has its answer already.
    if (!socket.writable) return;
    if (out.status === 101 && out.webSocket) {
      this.#sockets.upgrade(req, socket, head, out.webSocket.id, out.headers);
      return;
    }
    const bytes = out.stream ? await streamBytes(out.stream) : out.body;
    const body = bytes ? Buffer.from(bytes) : Buffer.alloc(0);
    const lines = [`HTTP/1.1 ${out.status} ${out.statusText || STATUS_CODES[out.status] || ""}`];
    for (const [k, v] of out.headers)
      if (!/^(content-length|transfer-encoding|connection)$/i.test(k)) lines.push(`${k}: ${v}`);
    lines.push(`content-length: ${body.byteLength}`, "connection: close", "", "");
    socket.write(lines.join("\r\n"));
    socket.end(body);
  }

  setRoutes(routes: readonly RouteConfig[]): void {
    this.#routes = routes.map(compileRoute);
  }

  /** The project's static assets (null: none). */
  setAssets(assets: AssetRouting | null): void {
    this.#assets = assets;
  }

  /**
   * Handles one request, from HTTP or from the control API: a trace of its
   * own when tracing is on (docs/traces.md). `onTrace` is told the trace's
   * id before the request runs.
   */
  handle(req: SerializedRequest, onTrace?: (traceId: string) => void): Promise<SerializedResponse> {
    const tracer = this.#lifecycle.tracer;
    if (!tracer?.sampled()) return this.#handle(req, undefined);
    return traceRequest(tracer, req, (trace) => {
      onTrace?.(trace.t);
      return this.#handle(req, trace);
    });
  }

  async #handle(req: SerializedRequest, trace: TraceContext | undefined): Promise<SerializedResponse> {
    const url = new URL(req.url);
    // Serialised as a Request would keep it (workers hand the url on as it is).
    if (url.href !== req.url) req = { ...req, url: url.href };
    const lifecycle = this.#lifecycle;
    if (url.pathname === EMAIL_HANDLER_PATH && lifecycle.entryCall) {
      return emailTrigger(req, url, (from, to, raw) =>
        lifecycle.entryCall!((api) => api.email(from, to, raw)),
      );
    }
    if (lifecycle.entryCall && isTriggerPath(url.pathname, this.testScheduled)) {
      return scheduledTrigger(url, Date.now(), (spec, warning) =>
        lifecycle.entryCall!((api) => api.scheduled(spec, warning)),
      );
    }
    const assets = this.#assets;
    if (assets) {
      const headers = req.headers;
      const asset = {
        method: req.method,
        url: req.url,
        header: (name: string) => headers.find(([k]) => k.toLowerCase() === name)?.[1] ?? null,
      };
      if (assets.servesAssets(asset, url.pathname)) return assets.server.fetch(asset);
    }
    // The headers are looked at only by a route whose object name uses one.
    const match = matchRoute(this.#routes, req.method, url, () => new Headers(req.headers));
    if (match) {
      const { objectName, expand } = match;
      return this.#lifecycle.routedFetch(
        { binding: match.route.config.binding, objectName, expand },
        req,
        trace,
      );
    }
    return this.#lifecycle.entryFetch(req, trace);
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#stopping) {
      req.resume();
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end("Terrarium is shutting down\n");
      return;
    }
    this.#pending.add(res);
    try {
      const host = req.headers.host ?? "127.0.0.1";
      const body = await readBody(req);
      const out = await this.handle({
        url: `http://${host}${req.url ?? "/"}`,
        method: req.method ?? "GET",
        headers: toHeaders(req),
        body,
      });
      if (out.status === 101) {
        throw new ObjectError(
          "the Worker answered with a WebSocket (101) a request that did not ask to upgrade",
          500,
        );
      }
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of out.headers) {
        const prev = headers[k];
        if (prev === undefined) headers[k] = v;
        else headers[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      delete headers["content-length"];
      delete headers["transfer-encoding"];
      // Cut short by close(): the client has its 503 already.
      if (res.headersSent) {
        void out.stream?.cancel().catch(() => {});
        return;
      }
      const noBody = req.method === "HEAD" || out.status === 204 || out.status === 304;
      if (out.stream && !noBody) {
        // Written as it comes (chunked), as workerd sends a body it does not know the length of.
        res.writeHead(out.status, out.statusText || undefined, headers);
        res.flushHeaders();
        await pipeBody(out.stream, res);
        return;
      }
      void out.stream?.cancel().catch(() => {});
      // The whole body is here, so its length is known: sent as workerd sends it (not chunked),
      // 0 for no body, and none where HTTP allows no body (HEAD, 204, 304).
      const payload = out.body ? Buffer.from(out.body) : null;
      if (payload) headers["content-length"] = String(payload.byteLength);
      else if (req.method !== "HEAD" && out.status !== 204 && out.status !== 304)
        headers["content-length"] = "0";
      res.writeHead(out.status, out.statusText || undefined, headers);
      res.end(payload ?? undefined);
    } catch (e) {
      const status = e instanceof ObjectError ? e.status : 500;
      const message =
        e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
      if (res.writableEnded) return;
      if (!res.headersSent) {
        res.writeHead(status, {
          "content-type": "text/plain; charset=utf-8",
          "x-terrarium-error": "1",
          ...(status === 413 ? { connection: "close" } : {}),
        });
      }
      res.end(`${message}\n`);
    } finally {
      this.#pending.delete(res);
    }
  }

  /** Requests not answered yet, WebSocket upgrades included. */
  get inFlight(): number {
    return this.#pending.size + this.#upgrading.size;
  }

  /**
   * Listens on `port` at `host`, or, given `handle`, on a socket another
   * process bound (a supervised `serve`: the supervisor keeps the socket
   * across restarts of the engine's process, so clients wait instead of
   * being refused).
   */
  listen(port: number, host = "127.0.0.1", handle?: object): Promise<number> {
    const server = createServer((req, res) => void this.#onRequest(req, res));
    server.on(
      "upgrade",
      (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#onUpgrade(req, socket, head),
    );
    server.keepAliveTimeout = 5_000;
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      const listening = (): void => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      };
      if (handle) server.listen(handle, listening);
      else server.listen(port, host, listening);
    });
  }

  /**
   * Stops accepting: the listening socket and idle keep-alive connections
   * close, and a request that still arrives on an open connection is
   * answered 503. What is in flight carries on.
   */
  stopAccepting(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    const server = this.#server;
    if (!server) return;
    this.#closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
  }

  /**
   * Stops accepting, gives the requests in flight up to `graceMs` to be
   * answered, then answers the rest 503 with `why` and closes every
   * connection. Resolves with how many were cut short that way.
   */
  async close(graceMs = 5_000, why = "Terrarium stopped before the request was answered"): Promise<number> {
    this.stopAccepting();
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const cut = this.inFlight;
    const answered: Promise<unknown>[] = [];
    for (const res of this.#pending) {
      answered.push(new Promise((r) => res.once("close", r)));
      if (!res.headersSent) {
        res.writeHead(503, {
          "content-type": "text/plain; charset=utf-8",
          "x-terrarium-error": "1",
          connection: "close",
        });
      }
      res.end(`${why}\n`);
    }
    this.#pending.clear();
    // The 503s reach their clients before the connections are closed (or 500 ms pass).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(answered), new Promise((r) => (timer = setTimeout(r, FLUSH_MS)))]);
    clearTimeout(timer);
    for (const socket of this.#upgrading) socket.end(refusal(503, `${why}\n`), () => socket.destroy());
    this.#upgrading.clear();
    const server = this.#server;
    this.#server = null;
    server?.closeAllConnections();
    // Upgraded sockets are not the HTTP server's to close (the SocketHub ends them): bounded, whatever they do.
    await Promise.race([this.#closed, new Promise((r) => (timer = setTimeout(r, FLUSH_MS)))]);
    clearTimeout(timer);
    return cut;
  }
}
