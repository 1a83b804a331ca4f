import { DurableObject } from "cloudflare:workers";

export interface Env {
  EDGES: DurableObjectNamespace<Edges>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorInfo(error: unknown) {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "?", message: String(error) };
}

async function settle(call: () => unknown) {
  try {
    return { ok: await call() };
  } catch (error) {
    return { error: errorInfo(error) };
  }
}

export class Edges extends DurableObject<Env> {
  memory = "fresh";

  count = 0;

  // An unhandled rejection is logged; the object lives on.
  leaveRejection() {
    void Promise.reject(new Error("nobody handles this"));
    return ++this.count;
  }

  touch() {
    const before = this.memory;
    this.memory = "touched";
    return before;
  }

  // abort() ends the object: the call fails with the reason, the next one
  // meets a fresh instance (memory reset, storage kept).
  async abortCaught(reason: string | undefined) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS marks (n INTEGER)");
    try {
      this.ctx.abort(reason);
      return { returned: true };
    } catch (error) {
      return { caught: errorInfo(error) };
    }
  }

  async stored() {
    return { memory: this.memory };
  }

  async putUndefined() {
    const out: Record<string, unknown> = {};
    out.put = await settle(() => this.ctx.storage.put("u", undefined));
    out.putMany = await settle(() => this.ctx.storage.put({ a: 1, b: undefined }));
    out.get = await settle(async () => {
      const v = await this.ctx.storage.get("u");
      return v === undefined ? "undefined" : v;
    });
    out.list = await settle(async () =>
      [...(await this.ctx.storage.list())].map(([k, v]) => [k, v === undefined ? "undefined" : v]),
    );
    out.getMany = await settle(async () =>
      [...(await this.ctx.storage.get(["a", "b", "u"]))].map(([k, v]) => [
        k,
        v === undefined ? "undefined" : v,
      ]),
    );
    return out;
  }

  sqlErrors() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
    const cases: Record<string, () => unknown> = {
      syntax: () => sql.exec("SELEC 1"),
      noTable: () => sql.exec("SELECT * FROM missing"),
      noColumn: () => sql.exec("SELECT nope FROM t"),
      notNull: () => sql.exec("INSERT INTO t (name) VALUES (NULL)"),
      unique: () => {
        sql.exec("INSERT OR IGNORE INTO t (name) VALUES ('x')");
        return sql.exec("INSERT INTO t (name) VALUES ('x')");
      },
      tooFewParams: () => sql.exec("SELECT ?, ?", 1),
      tooManyParams: () => sql.exec("SELECT ?", 1, 2),
      oneOnEmpty: () => sql.exec("SELECT * FROM t WHERE id = -1").one(),
      oneOnMany: () => {
        sql.exec("INSERT OR IGNORE INTO t (name) VALUES ('y')");
        return sql.exec("SELECT * FROM t").one();
      },
      twoStatements: () => sql.exec("SELECT 1; SELECT 2").toArray(),
      emptyStatement: () => sql.exec("").toArray(),
      badParam: () => sql.exec("SELECT ?", { a: 1 } as unknown as string),
      transactionStatement: () => sql.exec("BEGIN TRANSACTION"),
    };
    const out: Record<string, unknown> = {};
    for (const [name, run] of Object.entries(cases)) {
      try {
        const r = run();
        out[name] = {
          ok: r && typeof r === "object" && "toArray" in r ? (r as { toArray(): unknown }).toArray() : r,
        };
      } catch (error) {
        out[name] = { error: errorInfo(error) };
      }
    }
    return out;
  }

  async armAlarm(delayMs: number) {
    await this.ctx.storage.deleteAll();
    await this.ctx.storage.setAlarm(Date.now() + delayMs);
    return true;
  }

  async alarmSeen() {
    return (await this.ctx.storage.get("seen")) ?? null;
  }

  override async alarm(info?: AlarmInvocationInfo) {
    const during = await this.ctx.storage.getAlarm();
    await this.ctx.storage.put("seen", {
      argType: typeof info,
      keys: info ? Object.keys(info).sort() : null,
      scheduledTime: typeof (info as { scheduledTime?: unknown } | undefined)?.scheduledTime,
      retryCount: info?.retryCount ?? null,
      isRetry: info?.isRetry ?? null,
      alarmDuringHandler: during === null ? null : "set",
    });
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade") !== "websocket")
      return new Response("expected a websocket", { status: 400 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer) {
    if (message === "stamp?") {
      const t = this.ctx.getWebSocketAutoResponseTimestamp(ws);
      ws.send(JSON.stringify({ stamp: t === null ? null : t instanceof Date ? "date" : typeof t }));
    } else if (message === "bye") {
      ws.close(4000, "server bye");
    } else {
      ws.send(`echo:${String(message)}`);
    }
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const edges = env.EDGES.getByName(url.searchParams.get("name") ?? "e");
    switch (url.pathname) {
      case "/reject":
        return Response.json(await settle(() => edges.leaveRejection()));
      case "/touch":
        return Response.json(await settle(() => edges.touch()));
      case "/abort":
        return Response.json(await settle(() => edges.abortCaught("stop now")));
      case "/abort-no-reason":
        return Response.json(await settle(() => edges.abortCaught(undefined)));
      case "/stored":
        return Response.json(await settle(() => edges.stored()));
      case "/put-undefined":
        return Response.json(await settle(() => edges.putUndefined()));
      case "/sql-errors":
        return Response.json(await settle(() => edges.sqlErrors()));
      case "/alarm": {
        await edges.armAlarm(50);
        for (let i = 0; i < 50; i++) {
          const seen = await edges.alarmSeen();
          if (seen) return Response.json(seen);
          await sleep(100);
        }
        return Response.json({ timedOut: true });
      }
      case "/ws":
        return edges.fetch(request);
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
