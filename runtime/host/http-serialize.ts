import type { SerializedRequest, SerializedResponse, SocketInfo } from "./protocol.ts";
import {
  BaseResponse,
  NULL_BODY_STATUS,
  plainBody,
  responseWithBytes,
  TerrariumWebSocket,
  WorkersResponse,
} from "./websocket.ts";

const NO_BODY_METHODS = new Set(["GET", "HEAD"]);

export async function serializeRequest(req: Request): Promise<SerializedRequest> {
  const body = NO_BODY_METHODS.has(req.method) ? null : await req.arrayBuffer();
  return { url: req.url, method: req.method, headers: [...req.headers], body };
}

export function deserializeRequest(r: SerializedRequest): Request {
  const init: RequestInit = { method: r.method, headers: r.headers };
  if (r.body !== null && !NO_BODY_METHODS.has(r.method)) init.body = r.body;
  return new Request(r.url, init);
}

export async function serializeResponse(
  res: Response,
  socketInfo: (ws: TerrariumWebSocket) => SocketInfo = (ws) => ({
    id: ws.id,
    accepted: false,
    hibernatable: false,
    tags: [],
  }),
): Promise<SerializedResponse> {
  if (res.status === 101) {
    const ws = (res as Partial<WorkersResponse>).webSocket;
    if (!(ws instanceof TerrariumWebSocket)) throw new TypeError("A 101 response needs a webSocket.");
    return {
      status: 101,
      statusText: "Switching Protocols",
      headers: [...res.headers],
      body: null,
      webSocket: socketInfo(ws),
    };
  }
  const body = NULL_BODY_STATUS.has(res.status) ? null : (plainBody(res) ?? (await res.arrayBuffer()));
  return { status: res.status, statusText: res.statusText, headers: [...res.headers], body };
}

export function deserializeResponse(r: SerializedResponse): Response {
  if (r.status === 101 && r.webSocket) {
    return new WorkersResponse(null, {
      status: 101,
      headers: r.headers,
      webSocket: new TerrariumWebSocket(r.webSocket.id, "client", null),
    });
  }
  const init = { status: r.status, statusText: r.statusText, headers: r.headers };
  // The bytes came over the wire and belong to this response alone.
  return r.body === null || r.body.byteLength === 0
    ? new BaseResponse(null, init)
    : responseWithBytes(r.body, init);
}

/** The transferables of a serialized request or response (its body). */
export function bodyTransfer(r: { body: ArrayBuffer | null }): ArrayBuffer[] {
  return r.body && r.body.byteLength > 0 ? [r.body] : [];
}

/** The path of an absolute URL, without parsing it (request causes on the hot path). */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}
