import type { SerializedResponse } from "../host/protocol.ts";

/** A plain-text answer of the /cdn-cgi/handler/* trigger paths (email, scheduled), as wrangler dev gives them. */
export function triggerText(status: number, body: string): SerializedResponse {
  const bytes = new TextEncoder().encode(body);
  return {
    status,
    statusText: "",
    headers: [["content-type", "text/plain;charset=UTF-8"]],
    body: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  };
}
