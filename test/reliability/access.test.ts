import { connect } from "node:net";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startWebBridge, type WebBridge } from "../../runtime/api/web-bridge.ts";
import type { Engine } from "../../runtime/engine.ts";
import { openEngine } from "../helpers/project.ts";
import { listeningAddresses, sandbox, startServe, type Sandbox } from "./harness.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

// Who may drive the engine (docs/reliability.md, "Who may drive the engine"):
// the UI bridge in front of a real engine, refusing every caller that is not
// the page `terrarium ui` printed, and every listener on 127.0.0.1 only. The
// bridge's guards one by one against a fake API are test/unit/api/web-bridge.test.ts;
// the Electron IPC's sender and schema checks are test/unit/electron/control-ipc.test.ts.

const TOKEN = "c".repeat(64);
let box: Sandbox;
let engine: Engine;
let bridge: WebBridge;

beforeAll(async () => {
  box = sandbox("faults");
  engine = await openEngine(box.dir, box.dataDir);
  const staticDir = join(box.root, "renderer");
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, "index.html"), "<!doctype html><title>t</title>");
  bridge = await startWebBridge({ api: controlApi(engine), staticDir, token: TOKEN });
}, 90_000);

afterAll(async () => {
  await bridge.close();
  await engine.close();
  box.cleanup();
});

/** One raw HTTP request (so that Host can be anything, or absent); resolves with the status. */
function status(lines: string[]): Promise<number> {
  return new Promise((ok, fail) => {
    const s = connect(bridge.port, "127.0.0.1");
    let got = "";
    const timer = setTimeout(() => fail(new Error(`no answer: ${got}`)), 20_000);
    s.on("connect", () => s.write([...lines, "Connection: close", "", ""].join("\r\n")));
    s.on("data", (d: Buffer) => (got += d.toString()));
    s.on("close", () => {
      clearTimeout(timer);
      ok(Number(/^HTTP\/1\.[01] (\d+)/.exec(got)?.[1] ?? 0));
    });
    s.on("error", () => undefined);
  });
}

function socket(token: string | null, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((ok) => {
    const q = token === null ? "" : `?token=${token}`;
    const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/api${q}`, { headers });
    ws.once("open", () => ok(ws));
    ws.once("unexpected-response", (_req, res) => ok(res.statusCode ?? 0));
    ws.once("error", () => undefined);
  });
}

function call(ws: WebSocket, method: string, args: unknown[]): Promise<unknown> {
  return new Promise((ok) => {
    ws.once("message", (d) => ok(JSON.parse(String(d))));
    ws.send(JSON.stringify({ type: "call", id: 1, method, args }));
  });
}

describe("the UI bridge in front of a real engine", () => {
  const host = (): string => `Host: 127.0.0.1:${bridge.port}`;

  it.each([
    ["no token", () => ["GET / HTTP/1.1", host()], 401],
    ["a wrong token", () => ["GET /?token=" + "d".repeat(64) + " HTTP/1.1", host()], 401],
    ["a token one character short", () => [`GET /?token=${TOKEN.slice(1)} HTTP/1.1`, host()], 401],
    ["a foreign Origin", () => [`GET /?token=${TOKEN} HTTP/1.1`, host(), "Origin: http://evil.example"], 403],
    [
      "Origin null (a sandboxed frame, a file)",
      () => [`GET /?token=${TOKEN} HTTP/1.1`, host(), "Origin: null"],
      403,
    ],
    ["a rebinding Host", () => [`GET /?token=${TOKEN} HTTP/1.1`, `Host: evil.example:${bridge.port}`], 403],
    [
      "a Host with a trailing dot",
      () => [`GET /?token=${TOKEN} HTTP/1.1`, `Host: localhost.:${bridge.port}`],
      403,
    ],
    ["another port in Host", () => [`GET /?token=${TOKEN} HTTP/1.1`, "Host: 127.0.0.1:1"], 403],
    ["no Host at all (HTTP/1.0)", () => [`GET /?token=${TOKEN} HTTP/1.0`], 403],
    ["a POST", () => [`POST /?token=${TOKEN} HTTP/1.1`, host(), "Content-Length: 0"], 405],
  ])("refuses the page with %s", async (_what, lines, expected) => {
    expect(await status(lines())).toBe(expected);
  });

  it("serves the page to the address it printed", async () => {
    expect(await status([`GET /?token=${TOKEN} HTTP/1.1`, host()])).toBe(200);
  });

  it.each([
    ["no token", null, {}, 401],
    ["a wrong token", "e".repeat(64), {}, 401],
    ["a foreign Origin, with the token", TOKEN, { Origin: "http://evil.example" }, 403],
    ["Origin null, with the token", TOKEN, { Origin: "null" }, 403],
    ["a rebinding Host, with the token", TOKEN, { Host: "evil.example" }, 403],
  ] as const)("refuses a control socket with %s", async (_what, token, headers, expected) => {
    expect(await socket(token, headers)).toBe(expected);
  });

  it("answers the page's own socket, and closes it on a message outside the contract", async () => {
    const ws = await socket(TOKEN, { Origin: `http://127.0.0.1:${bridge.port}` });
    if (typeof ws === "number") throw new Error(`refused with ${ws}`);
    expect(await call(ws, "project", [])).toMatchObject({ type: "result", ok: true });
    expect(await call(ws, "readFile", ["../../etc/passwd"])).toMatchObject({
      type: "result",
      ok: false,
      error: { message: expect.stringMatching(/without \.\./) },
    });
    const closed = new Promise<number>((ok) => ws.once("close", (code) => ok(code)));
    const refused = new Promise<unknown>((ok) => ws.once("message", (d) => ok(JSON.parse(String(d)))));
    ws.send(JSON.stringify({ type: "exec", id: 2, code: "process.exit()" }));
    expect(await refused).toMatchObject({ type: "refused" });
    expect(await closed).toBe(1008);
  });

  it("listens on 127.0.0.1 only", () => {
    const mine = listeningAddresses(process.pid);
    expect(mine).toContain(`127.0.0.1:${bridge.port}`);
    expect(mine.every((a) => a.startsWith("127.0.0.1:"))).toBe(true);
  });
});

describe("terrarium serve", () => {
  it("listens on 127.0.0.1 only", async () => {
    const b = sandbox("faults");
    const server = await startServe(b, ["--quiet"]);
    try {
      const addresses = listeningAddresses(server.pid);
      expect(addresses).toEqual([`127.0.0.1:${server.port}`]);
    } finally {
      await server.kill9();
      b.cleanup();
    }
  }, 90_000);
});
