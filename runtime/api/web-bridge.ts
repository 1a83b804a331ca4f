import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { extname, join, normalize, resolve, sep } from "node:path";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { BridgeReply, ControlApi, LiveEvent } from "./contract.ts";
import { bridgeRequestSchema } from "./contract.ts";
import { dispatch, toBridgeError } from "./dispatch.ts";

export interface WebBridgeOptions {
  api: ControlApi;
  /** The built renderer (out/renderer): index.html and its assets. */
  staticDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 32 random bytes; tests pass their own, and so does a supervised `ui` (the same across restarts). */
  token?: string;
  /** A listening socket bound by a supervising process, instead of `port` (see runtime/cli/supervise.ts). */
  handle?: object | undefined;
  /**
   * Origins the page may connect to besides its own: the project's router
   * (`ws://127.0.0.1:8787`), for the Console's WebSocket client.
   */
  connectOrigins?: readonly string[];
}

export interface WebBridge {
  readonly port: number;
  readonly token: string;
  /** The address to open, token included. */
  readonly url: string;
  close(): Promise<void>;
}

/** The WebSocket the page opens: `ws://<host>/api?token=<token>`. */
export const BRIDGE_PATH = "/api";

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".map": "application/json",
};

/**
 * The page's Content-Security-Policy, the Electron window's: the page loads
 * only its own files and talks only to its own origin (the WebSocket
 * included: CSP 3 lets 'self' match ws: on the same host and port) and to
 * the origins it is given (the project's router).
 */
function contentSecurityPolicy(connectOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    // NOTE: 'unsafe-inline' for styles only: the code editor (Monaco) writes
    // its theme and layout as <style> elements and style attributes, and has
    // no nonce support. Scripts stay 'self' only.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    ["connect-src 'self'", ...connectOrigins].join(" "),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const COMMON_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  // The token is in the page's URL: never leak it in a Referer.
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Past this many unsent bytes on a socket, live events are dropped (and counted) rather than queued. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const MAX_CALLS_IN_FLIGHT = 64;
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return null;
}

/**
 * The web twin's server: the built renderer and the control API over a
 * WebSocket, on 127.0.0.1 only. Three guards, each enough to stop a page on
 * another origin from driving the engine:
 *
 * - Host must be `127.0.0.1:<port>` or `localhost:<port>` (no DNS rebinding);
 * - an Origin, when the client sends one, must be this server's own;
 * - the per-launch token: in the page URL (`?token=`), then in an HttpOnly,
 *   SameSite=Strict cookie for the page's assets, and in the WebSocket URL.
 *
 * A wrong host or origin gets 403, a missing or wrong token 401. Every
 * message on the socket is parsed with the contract's schemas; one that does
 * not parse is answered with `refused` and the socket is closed.
 */
export async function startWebBridge(opts: WebBridgeOptions): Promise<WebBridge> {
  const token = opts.token ?? randomBytes(32).toString("hex");
  for (const o of opts.connectOrigins ?? []) {
    if (!/^wss?:\/\/(127\.0\.0\.1|localhost):\d+$/.test(o))
      throw new Error(`not a local WebSocket origin: ${o}`);
  }
  const csp = contentSecurityPolicy(opts.connectOrigins ?? []);
  const staticRoot = resolve(opts.staticDir);
  let port = opts.port ?? 0;
  const cookieName = () => `terrarium_${port}`;
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = () => allowedHosts().map((h) => `http://${h}`);

  /** Why a request is refused, or null when its Host and Origin are ours. */
  const foreign = (req: IncomingMessage): string | null => {
    const host = (req.headers.host ?? "").toLowerCase();
    if (!allowedHosts().includes(host)) return "forbidden host";
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().includes(origin.toLowerCase())) return "forbidden origin";
    return null;
  };

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { ...COMMON_HEADERS, "content-type": "text/plain; charset=utf-8", ...headers });
    res.end(body);
  };

  const serveStatic = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const isIndex = url.pathname === "/" || url.pathname === "/index.html";
    const queryToken = url.searchParams.get("token");
    if (
      isIndex
        ? !sameToken(queryToken, token)
        : !sameToken(queryToken ?? cookieToken(req, cookieName()), token)
    ) {
      return send(res, 401, "terrarium: open the address `terrarium ui` printed, token included\n");
    }
    let rel: string;
    try {
      rel = isIndex ? "index.html" : decodeURIComponent(url.pathname).replace(/^\/+/, "");
    } catch {
      return send(res, 400, "bad path\n");
    }
    const file = resolve(staticRoot, normalize(rel));
    if (!file.startsWith(staticRoot + sep)) return send(res, 404, "not found\n");
    let body: Buffer;
    try {
      if (!(await stat(file)).isFile()) return send(res, 404, "not found\n");
      body = await readFile(file);
    } catch {
      return send(res, 404, "not found\n");
    }
    const headers: Record<string, string> = {
      ...COMMON_HEADERS,
      "content-type": MIME[extname(file)] ?? "application/octet-stream",
      "content-length": String(body.length),
    };
    if (isIndex) {
      headers["content-security-policy"] = csp;
      headers["set-cookie"] = `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  };

  const server = createServer((req, res) => {
    const refused = foreign(req);
    if (refused) return send(res, 403, `terrarium: ${refused}\n`);
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "method not allowed\n");
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    if (url.pathname === BRIDGE_PATH)
      return send(res, 426, "a WebSocket endpoint\n", { upgrade: "websocket" });
    serveStatic(req, res, url).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, `terrarium: ${String(e)}\n`);
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const reject = (socket: Duplex, status: 401 | 403 | 404, reason: string): void => {
    const text = { 401: "Unauthorized", 403: "Forbidden", 404: "Not Found" }[status];
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${reason}\n`,
    );
  };

  server.on("upgrade", (req, socket, head) => {
    const refused = foreign(req);
    if (refused) return reject(socket, 403, refused);
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    if (url.pathname !== BRIDGE_PATH) return reject(socket, 404, "not found");
    if (!sameToken(url.searchParams.get("token"), token))
      return reject(socket, 401, "wrong or missing token");
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, opts.api));
  });

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    const listening = (): void => {
      server.off("error", fail);
      ok();
    };
    if (opts.handle) server.listen(opts.handle, listening);
    else server.listen(port, "127.0.0.1", listening);
  });
  port = (server.address() as AddressInfo).port;

  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** One connected page: calls answered in any order, and the live stream when asked for. */
function serveSocket(ws: WebSocket, api: ControlApi): void {
  let unsubscribe: (() => void) | null = null;
  let dropped = 0;
  let inFlight = 0;
  const reply = (m: BridgeReply): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const refuse = (reason: string): void => {
    reply({ type: "refused", reason });
    ws.close(1008, "malformed message");
  };
  const onEvents = (batch: LiveEvent[]): void => {
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      dropped += batch.length;
      return;
    }
    if (dropped > 0) {
      reply({ type: "dropped", count: dropped });
      dropped = 0;
    }
    reply({ type: "events", batch });
  };

  ws.on("message", (data: RawData, isBinary: boolean) => {
    if (isBinary) return refuse("binary messages are not part of the protocol");
    let json: unknown;
    try {
      json = JSON.parse(data.toString());
    } catch {
      return refuse("not JSON");
    }
    const parsed = bridgeRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return refuse(`${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}`);
    }
    const msg = parsed.data;
    if (msg.type === "subscribe") {
      unsubscribe ??= api.subscribe(onEvents);
      return;
    }
    if (msg.type === "unsubscribe") {
      unsubscribe?.();
      unsubscribe = null;
      return;
    }
    if (inFlight >= MAX_CALLS_IN_FLIGHT) {
      return reply({
        type: "result",
        id: msg.id,
        ok: false,
        error: { name: "BusyError", message: `more than ${MAX_CALLS_IN_FLIGHT} calls in flight` },
      });
    }
    inFlight++;
    dispatch(api, msg.method, msg.args)
      .then(
        (value) => reply({ type: "result", id: msg.id, ok: true, value: value ?? null }),
        (e: unknown) => reply({ type: "result", id: msg.id, ok: false, error: toBridgeError(e) }),
      )
      .finally(() => inFlight--);
  });
  ws.on("close", () => {
    unsubscribe?.();
    unsubscribe = null;
  });
  ws.on("error", () => ws.terminate());
}

/** Where the built renderer is, relative to the repository. */
export function defaultRendererDir(repoRoot: string): string {
  return join(repoRoot, "out", "renderer");
}
