import type { SerializedRequest, SerializedResponse } from "../host/protocol.ts";
import { ObjectError } from "../lifecycle/lifecycle.ts";
import { pathOf } from "../host/http-serialize.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import type { TraceStore } from "../state/traces.ts";

/**
 * Runs one request as the root span of a new trace (docs/traces.md): named
 * by its method and path, ended with the status the router answers (an
 * error's status when it throws).
 */
export async function traceRequest(
  tracer: TraceStore,
  req: SerializedRequest,
  run: (trace: TraceContext) => Promise<SerializedResponse>,
): Promise<SerializedResponse> {
  const path = pathOf(req.url);
  const span = tracer.begin(null, "request", {
    name: `${req.method} ${path}`,
    method: req.method,
    path,
  });
  try {
    const res = await run(span.ctx);
    span.status = res.status;
    tracer.end(span);
    return res;
  } catch (e) {
    span.status = e instanceof ObjectError ? e.status : 500;
    tracer.end(
      span,
      e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e),
    );
    throw e;
  }
}
