import type { SerializedRequest, SerializedResponse } from "./protocol.ts";

const NO_BODY_METHODS = new Set(["GET", "HEAD"]);
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export async function serializeRequest(req: Request): Promise<SerializedRequest> {
  const body = NO_BODY_METHODS.has(req.method) ? null : await req.arrayBuffer();
  return { url: req.url, method: req.method, headers: [...req.headers], body };
}

export function deserializeRequest(r: SerializedRequest): Request {
  const init: RequestInit = { method: r.method, headers: r.headers };
  if (r.body !== null && !NO_BODY_METHODS.has(r.method)) init.body = r.body;
  return new Request(r.url, init);
}

export async function serializeResponse(res: Response): Promise<SerializedResponse> {
  const body = NULL_BODY_STATUS.has(res.status) ? null : await res.arrayBuffer();
  return { status: res.status, statusText: res.statusText, headers: [...res.headers], body };
}

export function deserializeResponse(r: SerializedResponse): Response {
  return new Response(r.body === null || r.body.byteLength === 0 ? null : r.body, {
    status: r.status,
    statusText: r.statusText,
    headers: r.headers,
  });
}

/** The transferables of a serialized request or response (its body). */
export function bodyTransfer(r: { body: ArrayBuffer | null }): ArrayBuffer[] {
  return r.body && r.body.byteLength > 0 ? [r.body] : [];
}
