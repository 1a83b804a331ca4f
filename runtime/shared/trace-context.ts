/**
 * A trace's context as it crosses threads (docs/traces.md): the trace's id
 * and the span a call is made from. The orchestrator passes it with each
 * event it hands a worker; the worker passes it back with each call the
 * event makes outward (another object, the bus, a queue, a mock endpoint,
 * a log line), so the orchestrator can hang what it records under the
 * right span. Short keys: it rides on every traced message.
 */
export interface TraceContext {
  /** The trace's id: 32 hex digits. */
  t: string;
  /** The span the call is made from. */
  s: string;
}

let prefix = "";
let counter = 0;

/**
 * A span id unique among this process's threads: a random prefix per
 * thread and a counter (cheaper than random bytes per span, which the
 * request path would pay).
 */
export function newSpanId(): string {
  if (prefix === "" || counter >= 0xffffff) {
    prefix = Math.floor(Math.random() * 0xffffffff)
      .toString(16)
      .padStart(8, "0");
    counter = 0;
  }
  return prefix + (++counter).toString(16).padStart(6, "0");
}

let traceSuffix = "";

function hex8(): string {
  return Math.floor(Math.random() * 0x100000000)
    .toString(16)
    .padStart(8, "0");
}

/**
 * A new trace's id: 32 hex digits, 16 from Math.random (so that a few
 * leading digits tell traces apart) and 16 drawn once per thread from the
 * crypto source (so that ids stay unique across processes and restarts),
 * without paying for random bytes per request.
 */
export function newTraceId(): string {
  if (traceSuffix === "") traceSuffix = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  return hex8() + hex8() + traceSuffix;
}
