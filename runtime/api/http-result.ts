import type { SerializedRequest, SerializedResponse } from "../host/protocol.ts";
import type { HttpRequestSpec, HttpResult } from "./contract.ts";

const TEXTUAL = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

/** A console request as the router and the objects take it: the path against `base`, a body unless GET or HEAD. */
export function serializedRequest(r: HttpRequestSpec, base: string): SerializedRequest {
  const body =
    r.body !== undefined && r.method !== "GET" && r.method !== "HEAD"
      ? new TextEncoder().encode(r.body)
      : null;
  return {
    url: new URL(r.path, base).href,
    method: r.method,
    headers: r.headers ?? [],
    body: body
      ? (body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer)
      : null,
  };
}

/**
 * A streamed body (SerializedResponse.stream) as far as the console shows
 * it: until it ends, or 1 MiB, or 10 s (a Server-Sent Events feed never
 * ends), then the stream is cancelled, as a client going away cancels it.
 */
export async function readStreamed(
  res: SerializedResponse,
  limits = { bytes: 1024 * 1024, ms: 10_000 },
): Promise<SerializedResponse> {
  const stream = res.stream;
  if (!stream) return res;
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const timer = setTimeout(() => void reader.cancel().catch(() => {}), limits.ms);
  try {
    while (size < limits.bytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    if (size >= limits.bytes) await reader.cancel();
  } catch {
    // Cut short (the stream failed): what came so far is the body.
  } finally {
    clearTimeout(timer);
  }
  const buf = Buffer.concat(chunks);
  return {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
    body: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
  };
}

/** A response as the console shows it: the body as text when its type is textual, else base64. */
export function httpResult(res: SerializedResponse, started: number): HttpResult {
  const type = res.headers.find(([k]) => k.toLowerCase() === "content-type")?.[1] ?? "";
  const bytes = res.body ? Buffer.from(res.body) : Buffer.alloc(0);
  const textual = type === "" || TEXTUAL.test(type);
  return {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
    body: textual ? bytes.toString("utf8") : "",
    bodyBase64: textual ? null : bytes.toString("base64"),
    durationMs: performance.now() - started,
  };
}

/** A request that failed before any response (no route, the object threw) as a plain-text result. */
export function errorResult(e: unknown, started: number): HttpResult {
  const msg = e instanceof Error ? e.message : String(e);
  const status =
    typeof (e as { status?: unknown }).status === "number" ? (e as { status: number }).status : 500;
  return {
    status,
    statusText: "",
    headers: [["content-type", "text/plain"]],
    body: msg,
    bodyBase64: null,
    durationMs: performance.now() - started,
  };
}
