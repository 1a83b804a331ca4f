import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Engine } from "../../runtime/engine.ts";
import { serve, type Served } from "../helpers/cli.ts";
import { openEngine, tempProject, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

/**
 * A hang is never silent: a request or event that gets no answer within
 * answerTimeoutMs fails with the reason (and the reason is logged), while
 * the object shows Processing for as long as the event really runs.
 */
const ANSWER_TIMEOUT_MS = 1_000;

let project: ReturnType<typeof tempProject>;
let engine: Engine | null = null;
const clients: WebSocket[] = [];

let served: Served | null = null;

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await engine?.close();
  engine = null;
  await served?.stop();
  served = null;
  project.cleanup();
});

async function start({
  answerTimeoutMs = ANSWER_TIMEOUT_MS,
  blockConcurrencyTimeoutMs = 30_000,
} = {}): Promise<{ url: string; engine: Engine; logs: string[]; problems: string[] }> {
  project = tempProject("hangs");
  const e = await openEngine(project.dir, project.dataDir, {
    lifecycle: {
      answerTimeoutMs,
      blockConcurrencyTimeoutMs,
      policy: { idleAfterMs: 50, hibernateAfterMs: 100 },
    },
  });
  engine = e;
  const logs: string[] = [];
  const problems: string[] = [];
  e.events.on("log", (l) => logs.push(l.message));
  e.events.on("problem", (p) => problems.push(p.message));
  const port = await e.listen(0);
  const url = `http://127.0.0.1:${port}`;
  // NOTE: the bound covers waking the object too; wake it first, so that a
  // slow worker start on a busy machine is not what a test measures.
  expect(await get(`${url}/obj/count`)).toEqual({ status: 200, text: '{"count":1}' });
  return { url, engine: e, logs, problems };
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text() };
}

describe("answers within a bound", () => {
  it("fails a request the object never answers with the reason, and keeps the object Processing", async () => {
    const { url, engine: e, logs } = await start();
    const hung = await get(`${url}/obj/forever`);
    expect(hung.status).toBe(500);
    expect(hung.text).toContain("gave no answer to GET /obj/forever within 1 s");
    expect(logs.some((m) => m.includes("gave no answer to GET /obj/forever"))).toBe(true);

    const [stuck] = (await controlApi(e).listObjects()).objects;
    expect(stuck?.state).toBe("Processing");
    // It still serves what does not hang, on the same instance (it cannot
    // hibernate while the hung event runs, so the count goes on), and stays
    // Processing: an object that took a request after it goes all the way to
    // Hibernating meanwhile. (The instance may be another than start()'s: on
    // a busy machine it can hibernate before /forever arrives.)
    const before = JSON.parse((await get(`${url}/obj/count`)).text) as { count: number };
    expect(await get(`${url}/obj/count`)).toEqual({
      status: 200,
      text: JSON.stringify({ count: before.count + 1 }),
    });
    expect(await get(`${url}/obj/count?name=other`)).toEqual({ status: 200, text: '{"count":1}' });
    const other = (await controlApi(e).listObjects()).objects.find((o) => o.name === "other");
    await until(
      async () => (await controlApi(e).getObject(other!.id))?.state === "Hibernating",
      "the other object to hibernate",
    );
    expect((await controlApi(e).getObject(stuck!.id))?.state).toBe("Processing");
  });

  it("fails a request the entry Worker never answers with the reason", async () => {
    const { url } = await start();
    const hung = await get(`${url}/entry-forever`);
    expect(hung.status).toBe(500);
    expect(hung.text).toContain("The entry Worker gave no answer to GET /entry-forever within 2 s");
  });

  it("resets an object whose blockConcurrencyWhile callback holds it too long, failing the events behind it, as workerd does", async () => {
    // workerd's bound is 30 s; the test shortens it. The answer timeout is
    // raised past it, so what ends the calls is the reset, not a hang report.
    const { url, logs } = await start({ blockConcurrencyTimeoutMs: 5_000, answerTimeoutMs: 60_000 });
    const blocked = get(`${url}/obj/block-forever`);
    await until(() => logs.includes("holding the input gate"), "the callback to hold the input gate");
    const queued = get(`${url}/obj/count`);
    const message =
      "Error: A call to blockConcurrencyWhile() in a Durable Object waited for too long. The call was canceled and the Durable Object was reset.";
    expect(await blocked).toEqual({ status: 500, text: `caught ${message}` });
    expect(await queued).toEqual({ status: 500, text: `caught ${message}` });
    // The next event meets a new instance.
    expect(await get(`${url}/obj/count`)).toEqual({ status: 200, text: '{"count":1}' });
  });

  it("runs blockConcurrencyWhile nested in blockConcurrencyWhile, as workerd does", async () => {
    const { url } = await start();
    expect(await get(`${url}/obj/nested`)).toEqual({ status: 200, text: '{"value":42}' });
  });

  it("reports a WebSocket message handler that never returns, and delivers the next message", async () => {
    const { url, problems } = await start();
    const ws = new WebSocket(`${url.replace("http", "ws")}/obj/socket`);
    clients.push(ws);
    const received: string[] = [];
    ws.on("message", (d: Buffer) => received.push(d.toString()));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send("hang");
    ws.send("ping");
    await until(() => received.length > 0, "a message on the socket");
    expect(received).toEqual(["echo: ping"]);
    // The next message does not wait for the hung one (events are handed over in order, handled
    // as workerd interleaves them); the hung one is reported once the bound passes.
    await until(
      () => problems.some((m) => m.includes("gave no answer to websocket message")),
      "the problem naming the unanswered websocket message",
    );
  });
});

describe("terrarium serve --answer-timeout", () => {
  it("answers a hung request with the reason and prints it", async () => {
    project = tempProject("hangs");
    served = await serve(project.dir, ["--data", project.dataDir, "--answer-timeout", "1500"]);
    expect(await get(`${served.url}/obj/count`)).toEqual({ status: 200, text: '{"count":1}' });
    const hung = await get(`${served.url}/obj/forever`);
    expect(hung.status).toBe(500);
    expect(hung.text).toContain("Durable Object Stuck one gave no answer to GET /obj/forever within 1.5 s");
    const s = served;
    await until(
      () => s.output().includes("gave no answer to GET /obj/forever"),
      "the output naming the unanswered GET /obj/forever",
    );
  });
});
