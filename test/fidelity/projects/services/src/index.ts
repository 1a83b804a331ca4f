import { WorkerEntrypoint } from "cloudflare:workers";

interface Back {
  fetch(input: string | Request, init?: RequestInit): Promise<Response>;
  add(a: number, b: number): Promise<number>;
  describe(v: unknown): Promise<unknown>;
  fail(message: string): Promise<never>;
  readonly version: Promise<string>;
  nope(): Promise<unknown>;
  roomMembers(name: string): Promise<unknown>;
  tally(): Promise<{ add(n: number): Promise<number>; readonly total: Promise<number> } & Disposable>;
  twiceThrough(fn: (n: number) => Promise<number>, n: number): Promise<number>;
}
interface Room {
  join(who: string): Promise<{ members: string[] }>;
  fetch(input: string): Promise<Response>;
}
interface Env {
  BACK: Back;
  ADMIN: { whoami(): Promise<string>; fetch(input: string): Promise<Response> };
  SELF: { twice(n: number): Promise<number> };
  ROOMS: {
    idFromName(name: string): { toString(): string };
    getByName(name: string): Room;
  };
}

/** A named entrypoint of this Worker, reached through its own service binding. */
export class Helper extends WorkerEntrypoint<Env> {
  twice(n: number): number {
    return n * 2;
  }
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await p };
  } catch (e) {
    const err = e as Error;
    return { error: err.name, message: err.message };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/fetch": {
        const r = await env.BACK.fetch("http://back.internal/echo?q=1", {
          method: "POST",
          headers: { "x-from": "front" },
          body: "ping",
        });
        return Response.json({ status: r.status, body: await r.text(), header: r.headers.get("x-back") });
      }
      case "/forward":
      case "/events":
        // The incoming request itself, handed on (/events: a body the other Worker streams).
        return env.BACK.fetch(request);
      case "/status": {
        const r = await env.BACK.fetch("http://back.internal/teapot");
        return Response.json({ status: r.status, text: await r.text() });
      }
      case "/rpc":
        return Response.json({
          add: await env.BACK.add(2, 3),
          describe: await env.BACK.describe({ list: [1, "two"], nested: { ok: true } }),
          version: await env.BACK.version,
        });
      case "/rpc-errors":
        return Response.json({
          thrown: await caught(env.BACK.fail("boom")),
          missing: await caught(env.BACK.nope()),
        });
      case "/named":
        return Response.json({
          admin: await env.ADMIN.whoami(),
          fetch: await caught(env.ADMIN.fetch("http://back.internal/")),
        });
      case "/rooms": {
        // A class of the back Worker: ids derive from its name, and it holds the one object.
        const id = env.ROOMS.idFromName("lobby").toString();
        const first = await env.ROOMS.getByName("lobby").join("ann");
        const second = await env.ROOMS.getByName("lobby").join("bob");
        const seen = await (await env.ROOMS.getByName("lobby").fetch("http://room/x")).json();
        return Response.json({ id, first, second, seen, fromBack: await env.BACK.roomMembers("lobby") });
      }
      case "/stubs": {
        // Functions and RpcTargets by reference between two Workers.
        using tally = await env.BACK.tally();
        await tally.add(4);
        return Response.json({
          add: await tally.add(5),
          total: await tally.total,
          twice: await env.BACK.twiceThrough(async (n) => n + 10, 1),
        });
      }
      case "/self":
        return Response.json({ twice: await env.SELF.twice(21) });
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
