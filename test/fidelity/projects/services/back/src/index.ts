import { DurableObject, RpcTarget, WorkerEntrypoint } from "cloudflare:workers";

interface Env {
  WHO: string;
  ROOMS: DurableObjectNamespace<Room>;
}

/** A Durable Object of this Worker, which the front Worker binds with script_name. */
export class Room extends DurableObject<Env> {
  async join(who: string): Promise<{ members: string[] }> {
    const members = [...((await this.ctx.storage.get<string[]>("members")) ?? []), who];
    await this.ctx.storage.put("members", members);
    return { members };
  }

  async fetch(request: Request): Promise<Response> {
    const members = (await this.ctx.storage.get<string[]>("members")) ?? [];
    return Response.json({ room: this.ctx.id.name ?? null, members, path: new URL(request.url).pathname });
  }
}

/** Handed to the front Worker by reference: its calls come back to this Worker. */
class Tally extends RpcTarget {
  #n = 0;
  add(n: number): number {
    this.#n += n;
    return this.#n;
  }
  get total(): number {
    return this.#n;
  }
}

/** A named entrypoint (the binding's `entrypoint`), with no fetch(). */
export class Admin extends WorkerEntrypoint<Env> {
  whoami(): string {
    return `admin of ${this.env.WHO}`;
  }
}

export default class Back extends WorkerEntrypoint<Env> {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/teapot") return new Response("short and stout", { status: 418 });
    if (url.pathname === "/events") {
      // Server-Sent Events written over time, until the reader goes away.
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const writer = writable.getWriter();
      this.ctx.waitUntil(
        (async () => {
          for (let i = 0; ; i++) {
            try {
              await writer.write(new TextEncoder().encode(`data: back ${i}\n\n`));
            } catch {
              return;
            }
            await scheduler.wait(100);
          }
        })(),
      );
      return new Response(readable, { headers: { "content-type": "text/event-stream" } });
    }
    return Response.json(
      {
        method: request.method,
        path: url.pathname + url.search,
        host: url.host === "back.internal" ? url.host : "(the client's)",
        from: request.headers.get("x-from"),
        body: await request.text(),
      },
      { headers: { "x-back": this.env.WHO } },
    );
  }

  add(a: number, b: number): number {
    return a + b;
  }

  describe(v: unknown): unknown {
    return { got: v, type: typeof v };
  }

  fail(message: string): never {
    throw new RangeError(message);
  }

  /** The same object the front Worker reaches through its script_name binding. */
  async roomMembers(name: string): Promise<unknown> {
    const r = await this.env.ROOMS.getByName(name).fetch("http://room/members");
    return r.json();
  }

  get version(): string {
    return "1.2.3";
  }

  /** An RpcTarget returned to the other Worker, and a callback of the other Worker called here. */
  tally(): Tally {
    return new Tally();
  }

  async twiceThrough(fn: (n: number) => Promise<number>, n: number): Promise<number> {
    return fn(await fn(n));
  }
}
