import { DurableObject } from "cloudflare:workers";

/**
 * Server-Sent Events: a Response whose body is a TransformStream's readable
 * side, written one event every 100 ms by code that runs on after the
 * Response was returned, from the entry Worker and from an object (through
 * the entry Worker's stub.fetch). The client reads a few events as they
 * come and goes away; the writer then sees its write rejected, and notes
 * what it saw in the Log object, which GET /log/<name> reads.
 */

interface Env {
  FEED: DurableObjectNamespace<Feed>;
  LOG: DurableObjectNamespace<Log>;
}

const encoder = new TextEncoder();

/** Writes `data: <i>` events every 100 ms until a write fails, or `count` of them when given. */
function sse(
  count: number | null,
  done: (outcome: Record<string, unknown>) => Promise<void>,
): {
  response: Response;
  writing: Promise<void>;
} {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const writing = (async () => {
    for (let i = 0; count === null || i < count; i++) {
      try {
        await writer.write(encoder.encode(`data: ${i}\n\n`));
      } catch (e) {
        await done({
          stopped: "write rejected",
          error: e instanceof Error ? e.name : typeof e,
          wrote: i >= 3 ? "at least 3" : i,
        });
        return;
      }
      await scheduler.wait(100);
    }
    await writer.close();
    await done({ stopped: "finished", wrote: count });
  })();
  const response = new Response(readable, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
  return { response, writing };
}

export class Log extends DurableObject<Env> {
  async note(outcome: Record<string, unknown>): Promise<void> {
    await this.ctx.storage.put("outcome", outcome);
  }

  async fetch(): Promise<Response> {
    return Response.json((await this.ctx.storage.get("outcome")) ?? null);
  }
}

export class Feed extends DurableObject<Env> {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const count = url.searchParams.get("count");
    const name = url.searchParams.get("log") ?? "feed";
    const { response } = sse(count === null ? null : Number(count), (outcome) =>
      this.env.LOG.getByName(name).note({ from: "object", ...outcome }),
    );
    return response;
  }
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const [, kind, name] = url.pathname.split("/");
    if (kind === "worker") {
      const count = url.searchParams.get("count");
      const { response, writing } = sse(count === null ? null : Number(count), (outcome) =>
        env.LOG.getByName(name!).note({ from: "worker", ...outcome }),
      );
      ctx.waitUntil(writing);
      return response;
    }
    if (kind === "object")
      return env.FEED.getByName(name!).fetch(`${url.origin}/?log=${name}&${url.searchParams}`);
    if (kind === "log") return env.LOG.getByName(name!).fetch(request);
    return new Response("not found", { status: 404 });
  },
};
