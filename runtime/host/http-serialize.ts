import type { Transferable } from "node:worker_threads";
import { lazyRequest, NO_BODY_METHODS, unreadRecord } from "./lazy-request.ts";
import type { SerializedRequest, SerializedResponse, SocketInfo } from "./protocol.ts";
import {
  NULL_BODY_STATUS,
  plainBody,
  responseFromWire,
  streamedBody,
  wireRecord,
  WorkersResponse,
} from "./response.ts";
import { SOCKET, TerrariumWebSocket } from "./websocket.ts";

export async function serializeRequest(req: Request): Promise<SerializedRequest> {
  const unread = unreadRecord(req);
  if (unread) return unread;
  const body = NO_BODY_METHODS.has(req.method) ? null : await req.arrayBuffer();
  return { url: req.url, method: req.method, headers: [...req.headers], body };
}

/** The Request a worker's code is handed: built when the code first looks inside it (lazy-request.ts). */
export function deserializeRequest(r: SerializedRequest): Request {
  return lazyRequest(r);
}

export async function serializeResponse(
  res: Response,
  socketInfo: (ws: TerrariumWebSocket) => SocketInfo = (ws) => ({
    id: ws[SOCKET].id,
    accepted: false,
    hibernatable: false,
    tags: [],
  }),
): Promise<SerializedResponse> {
  const unbuilt = wireRecord(res);
  if (unbuilt) return unbuilt;
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
  if (NULL_BODY_STATUS.has(res.status))
    return { status: res.status, statusText: res.statusText, headers: [...res.headers], body: null };
  const stream = streamedBody(res);
  if (stream)
    return { status: res.status, statusText: res.statusText, headers: [...res.headers], body: null, stream };
  const body = plainBody(res) ?? (await res.arrayBuffer());
  return { status: res.status, statusText: res.statusText, headers: [...res.headers], body };
}

/**
 * `clientSocket` makes the client end of a returned WebSocket, so that the
 * worker can accept it and talk to the object itself; without it the end
 * can only be handed on in a Response.
 */
export function deserializeResponse(
  r: SerializedResponse,
  clientSocket: ((id: string) => TerrariumWebSocket) | null = null,
): Response {
  if (r.status === 101 && r.webSocket) {
    return new WorkersResponse(null, {
      status: 101,
      headers: r.headers,
      webSocket: clientSocket
        ? clientSocket(r.webSocket.id)
        : new TerrariumWebSocket(r.webSocket.id, "client", null),
    });
  }
  return responseFromWire(r);
}

/** The transferables of a serialized request or response (its body, or its body's stream). */
export function bodyTransfer(r: {
  body: ArrayBuffer | null;
  stream?: ReadableStream<Uint8Array>;
}): Transferable[] {
  if (r.stream) return [r.stream as unknown as Transferable];
  return r.body && r.body.byteLength > 0 ? [r.body] : [];
}

/** The path of an absolute URL, without parsing it (request causes on the hot path). */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}
