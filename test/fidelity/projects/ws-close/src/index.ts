import { DurableObject } from "cloudflare:workers";

/**
 * A client closes its WebSocket and the object answers the close, or not,
 * in its close handler. Before compatibility date 2026-04-07 (and with
 * web_socket_manual_reply_to_close) workerd leaves the answer to the
 * object's ws.close(); from then on it answers a standard socket's close
 * itself (web_socket_auto_reply_to_close), but never a hibernatable one's,
 * nor one accepted with { allowHalfOpen: true }. The sibling projects
 * ws-close-auto and ws-close-manual-flag run this code at other dates and
 * flags.
 *
 * Each object holds one socket; `?mode=` says what its close handler does,
 * and GET <path>/log shows what the handler saw.
 */

interface Env {
  HIBERNATING: DurableObjectNamespace<Hibernating>;
  STANDARD: DurableObjectNamespace<Standard>;
}

type Mode = "none" | "reply" | "other" | "late";

function answer(ws: WebSocket, mode: Mode, code: number, reason: string): Record<string, unknown> {
  const seen: Record<string, unknown> = {};
  try {
    if (mode === "reply") ws.close(code, `reply:${reason}`);
    if (mode === "other") ws.close(4001, "other");
    if (mode === "late") {
      ws.send("late");
      ws.close(4002, "after late");
    }
  } catch (e) {
    seen.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  seen.readyStateAfter = ws.readyState;
  return seen;
}

async function logged(storage: DurableObjectStorage): Promise<Response> {
  return Response.json((await storage.get("log")) ?? []);
}

export class Hibernating extends DurableObject<Env> {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/log")) {
      const log = ((await this.ctx.storage.get<unknown[]>("log")) ?? []).slice();
      return Response.json({ log, sockets: this.ctx.getWebSockets().length });
    }
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server, [url.searchParams.get("mode") ?? "none"]);
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): Promise<void> {
    const entry = {
      code,
      reason,
      wasClean,
      readyState: ws.readyState,
      socketsDuring: this.ctx.getWebSockets().length,
      ...answer(ws, this.ctx.getTags(ws)[0] as Mode, code, reason),
    };
    await this.ctx.storage.put("log", [entry]);
  }
}

export class Standard extends DurableObject<Env> {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/log")) return logged(this.ctx.storage);
    const mode = (url.searchParams.get("mode") ?? "none") as Mode;
    const [client, server] = Object.values(new WebSocketPair());
    if (url.searchParams.has("half")) server.accept({ allowHalfOpen: true });
    else server.accept();
    server.addEventListener("close", (event) => {
      const entry = {
        code: event.code,
        reason: event.reason,
        wasClean: event.wasClean,
        readyState: server.readyState,
        ...answer(server, mode, event.code, event.reason),
      };
      void this.ctx.storage.put("log", [entry]);
    });
    return new Response(null, { status: 101, webSocket: client });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const [, kind, name] = url.pathname.split("/");
    if (kind === "hibernating") return env.HIBERNATING.getByName(name!).fetch(request);
    if (kind === "standard") return env.STANDARD.getByName(name!).fetch(request);
    return new Response("not found", { status: 404 });
  },
};
