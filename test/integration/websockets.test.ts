import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Engine } from "../../runtime/engine.ts";
import { enginesPerTest, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const engines = enginesPerTest();
const clients: WebSocket[] = [];

// Registered after enginesPerTest's: after-each hooks run last-registered first, so
// the clients are gone before the engine closes.
afterEach(() => {
  for (const c of clients.splice(0)) c.terminate();
});

async function start(
  opts: Parameters<typeof engines.open>[1] = {},
): Promise<{ url: string; engine: Engine }> {
  const { engine } = await engines.open("sockets", opts);
  const port = await engine.listen(0);
  return { url: `ws://127.0.0.1:${port}`, engine };
}

function connect(url: string): Promise<WebSocket & { next: () => Promise<string | Buffer> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    clients.push(ws);
    const queue: (string | Buffer)[] = [];
    const waiters: ((m: string | Buffer) => void)[] = [];
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const m = isBinary ? data : data.toString();
      const w = waiters.shift();
      if (w) w(m);
      else queue.push(m);
    });
    ws.once("open", () =>
      resolve(
        Object.assign(ws, {
          next: () =>
            new Promise<string | Buffer>((r) => {
              const m = queue.shift();
              if (m !== undefined) r(m);
              else waiters.push(r);
            }),
        }),
      ),
    );
    ws.once("error", reject);
  });
}

describe("WebSockets", () => {
  it("routes an upgrade to an object that accepts it with the hibernation API", async () => {
    const { url } = await start();
    const alice = await connect(`${url}/room/r1?user=alice`);
    const bob = await connect(`${url}/room/r1?user=bob`);
    alice.send("hello");
    expect(await alice.next()).toBe("alice#1: hello");
    expect(await bob.next()).toBe("alice#1: hello");
    bob.send("who");
    expect(JSON.parse(String(await bob.next()))).toMatchObject({
      me: { user: "bob", joined: 2 },
      tags: ["bob", "all"],
      count: 2,
    });
  });

  it("keeps clients connected while the object hibernates, and wakes it with attachments intact", async () => {
    const { url, engine } = await start({
      lifecycle: { policy: { idleAfterMs: 50, hibernateAfterMs: 100 } },
    });
    const carol = await connect(`${url}/room/sleepy?user=carol`);
    carol.send("first");
    expect(await carol.next()).toBe("carol#1: first");
    const objects = await controlApi(engine).listObjects({ className: "Room" });
    const id = objects.objects[0]!.id;
    await until(
      async () => (await controlApi(engine).getObject(id))?.state === "Hibernating",
      "the object to hibernate",
    );
    expect(carol.readyState).toBe(WebSocket.OPEN);
    // Auto-responses are answered without waking the object.
    carol.send("ping");
    expect(await carol.next()).toBe("pong");
    expect((await controlApi(engine).getObject(id))?.state).toBe("Hibernating");
    carol.send("who");
    const who = JSON.parse(String(await carol.next()));
    // A fresh instance (wakeups restarted) that still knows the socket, its tags and attachment.
    expect(who).toMatchObject({
      me: { user: "carol", joined: 1 },
      tags: ["carol", "all"],
      count: 1,
      wakeups: 1,
    });
    carol.send("again");
    expect(await carol.next()).toBe("carol#2: again");
  });

  it("carries binary frames, close codes and reasons both ways", async () => {
    const { url } = await start();
    const dan = await connect(`${url}/room/bin?user=dan`);
    dan.send(Buffer.from([1, 2, 3]));
    expect([...((await dan.next()) as Buffer)]).toEqual([3, 2, 1]);
    const closed = new Promise<[number, string]>((r) =>
      dan.once("close", (code, reason) => r([code, reason.toString()])),
    );
    dan.send("bye");
    expect(await closed).toEqual([4001, "bye dan"]);
    const erin = await connect(`${url}/room/bin?user=erin`);
    erin.close(4002, "leaving");
    await until(async () => {
      const r = await fetch(`${url.replace("ws:", "http:")}/closed/bin?user=erin`);
      return (await r.json()) !== null;
    }, "the closed socket's record");
    const r = await fetch(`${url.replace("ws:", "http:")}/closed/bin?user=erin`);
    expect(await r.json()).toEqual({ code: 4002, reason: "leaving" });
  });

  it("supports the standard API, which keeps the object from hibernating", async () => {
    const { url, engine } = await start({
      lifecycle: { policy: { idleAfterMs: 50, hibernateAfterMs: 100 } },
    });
    const e = await connect(`${url}/echo/e1`);
    e.send("a");
    expect(await e.next()).toBe("echo 1: a");
    await new Promise((r) => setTimeout(r, 500));
    e.send("b");
    // Same instance: the counter kept going.
    expect(await e.next()).toBe("echo 2: b");
    const obj = (await controlApi(engine).listObjects({ className: "Echo" })).objects[0]!;
    expect(obj.state).not.toBe("Hibernating");
  });

  it("answers a refused upgrade with the Worker's HTTP response", async () => {
    const { url } = await start();
    const err = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${url}/plain-upgrade`);
      ws.on("unexpected-response", (_req, res) => resolve(String(res.statusCode)));
      ws.on("error", () => {});
    });
    expect(err).toBe("400");
  });

  it("holds 1,000 sockets on one object", async () => {
    const { url } = await start();
    const many = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => connect(`${url}/room/big?user=u${i}`)),
    );
    many[0]!.send("who");
    expect(JSON.parse(String(await many[0]!.next()))).toMatchObject({ count: 1000 });
    many[999]!.send("hi all");
    const got = await Promise.all(many.map((c) => c.next()));
    expect(new Set(got)).toEqual(new Set(["u999#1: hi all"]));
  }, 120_000);
});
