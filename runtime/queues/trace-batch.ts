import type { DeliveredMessage, QueueOutcome } from "../bindings/queue.ts";
import { errorText } from "../shared/errors.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import type { TraceLinks, TraceStore } from "../state/traces.ts";

/**
 * Runs a batch's delivery as a span (docs/traces.md): under the send of the
 * first of its messages a traced request made, or as a trace of its own.
 */
export async function traceBatch(
  tracer: TraceStore | null,
  queue: string,
  messages: readonly DeliveredMessage[],
  links: TraceLinks<string>,
  run: (trace: TraceContext | undefined) => Promise<QueueOutcome>,
): Promise<QueueOutcome> {
  if (!tracer) return run(undefined);
  let parent: TraceContext | null = null;
  for (const m of messages) {
    const link = links.get(m.id);
    if (link) {
      parent = link;
      break;
    }
  }
  const n = messages.length;
  const span = tracer.begin(parent, "queue", { name: `queue ${queue} (${n} message${n === 1 ? "" : "s"})` });
  try {
    const out = await run(span.ctx);
    tracer.end(span, out.outcome === "exception" ? (out.error ?? "the queue() handler threw") : undefined);
    return out;
  } catch (e) {
    tracer.end(span, errorText(e));
    throw e;
  }
}
