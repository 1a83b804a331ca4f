import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { BridgeReply, ControlApi, LiveEvent } from "../../../runtime/api/contract.ts";
import { startWebBridge, type WebBridge } from "../../../runtime/api/web-bridge.ts";

const TOKEN = "a".repeat(64);

// A control API that answers two methods and streams whatever `emit` sends;
// the bridge's guards are what is under test, not the engine.
const listeners = new Set<(batch: LiveEvent[]) => void>();
const calls: string[] = [];
const api = new Proxy({} as ControlApi, {
  get(_target, name: string) {
    if (name === "subscribe") {
      return (fn: (batch: LiveEvent[]) => void) => {
        listeners.add(fn);
        return () => listeners.delete(fn);
      };
    }
    return async (...args: unknown[]) => {
      calls.push(name);
      if (name === "project") return { name: "fake" };
      if (name === "getObject") return { id: args[0] };
      throw new Error(`${name} is not part of this fake`);
    };
  },
});

let root: string;
let bridge: WebBridge;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "terrarium-bridge-"));
  mkdirSync(join(root, "assets"));
  writeFileSync(join(root, "index.html"), "<!doctype html><title>t</title>");
  writeFileSync(join(root, "assets", "app.js"), "console.log(1)");
  bridge = await startWebBridge({ api, staticDir: root, port: 0, token: TOKEN });
});

afterAll(async () => {
  await bridge.close();
  rmSync(root, { recursive: true, force: true });
});

function get(
  path: string,
  headers: Record<string, string> = {},
  port = bridge.port,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Opens the bridge's socket; resolves once open, or with the HTTP status it was refused with. */
function connect(
  query: string,
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; status: null } | { ws: null; status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/api${query}`, { headers });
    ws.once("open", () => resolve({ ws, status: null }));
    ws.once("unexpected-response", (_req, res) => resolve({ ws: null, status: res.statusCode ?? 0 }));
    ws.once("error", () => undefined);
  });
}

function nextReply(ws: WebSocket): Promise<BridgeReply> {
  return new Promise((resolve) => ws.once("message", (d) => resolve(JSON.parse(String(d)) as BridgeReply)));
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once("close", (code) => resolve(code)));
}

describe("web bridge: the page", () => {
  it("serves the page with the right token, with a strict CSP and a token cookie", async () => {
    const res = await get(`/?token=${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(String(res.headers["set-cookie"])).toContain("HttpOnly; SameSite=Strict");
  });

  it("lets the page connect to the router it is given, and refuses a non-local one", async () => {
    const withRouter = await startWebBridge({
      api,
      staticDir: root,
      token: TOKEN,
      connectOrigins: ["ws://127.0.0.1:8787"],
    });
    try {
      const res = await get(`/?token=${TOKEN}`, {}, withRouter.port);
      expect(res.headers["content-security-policy"]).toContain("connect-src 'self' ws://127.0.0.1:8787;");
    } finally {
      await withRouter.close();
    }
    await expect(
      startWebBridge({ api, staticDir: root, connectOrigins: ["wss://evil.example:443"] }),
    ).rejects.toThrow("not a local WebSocket origin");
  });

  it("refuses the page without the token or with a wrong one", async () => {
    expect((await get("/")).status).toBe(401);
    expect((await get(`/?token=${"b".repeat(64)}`)).status).toBe(401);
    expect((await get("/?token=short")).status).toBe(401);
  });

  it("serves assets only with the token cookie", async () => {
    expect((await get("/assets/app.js")).status).toBe(401);
    const ok = await get("/assets/app.js", { cookie: `terrarium_${bridge.port}=${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.headers["content-type"]).toContain("text/javascript");
  });

  it("refuses a foreign Host (DNS rebinding) and a foreign Origin even with the token", async () => {
    expect((await get(`/?token=${TOKEN}`, { host: `evil.example:${bridge.port}` })).status).toBe(403);
    expect((await get(`/?token=${TOKEN}`, { origin: "http://evil.example" })).status).toBe(403);
    expect((await get(`/?token=${TOKEN}`, { host: `localhost:${bridge.port}` })).status).toBe(200);
  });
});

describe("web bridge: the socket", () => {
  it("refuses a socket with a wrong or missing token", async () => {
    expect((await connect("")).status).toBe(401);
    expect((await connect(`?token=${"b".repeat(64)}`)).status).toBe(401);
  });

  it("refuses a socket from a foreign Origin or Host even with the right token", async () => {
    expect((await connect(`?token=${TOKEN}`, { origin: "http://evil.example" })).status).toBe(403);
    expect((await connect(`?token=${TOKEN}`, { origin: `http://127.0.0.1:${bridge.port + 1}` })).status).toBe(
      403,
    );
    expect((await connect(`?token=${TOKEN}`, { host: `evil.example:${bridge.port}` })).status).toBe(403);
  });

  it("answers a valid call from its own origin", async () => {
    const { ws } = await connect(`?token=${TOKEN}`, { origin: `http://127.0.0.1:${bridge.port}` });
    ws!.send(JSON.stringify({ type: "call", id: 7, method: "project", args: [] }));
    expect(await nextReply(ws!)).toEqual({ type: "result", id: 7, ok: true, value: { name: "fake" } });
    ws!.close();
  });

  it("refuses arguments that do not match the contract before they reach the engine", async () => {
    const { ws } = await connect(`?token=${TOKEN}`);
    calls.length = 0;
    ws!.send(JSON.stringify({ type: "call", id: 1, method: "getObject", args: ["not-an-id"] }));
    const reply = await nextReply(ws!);
    expect(reply).toMatchObject({ type: "result", id: 1, ok: false, error: { name: "ValidationError" } });
    expect(calls).toEqual([]);
    ws!.close();
  });

  it.each([
    ["not JSON", "{nope"],
    ["an unknown method", JSON.stringify({ type: "call", id: 1, method: "eval", args: [] })],
    ["an unknown message type", JSON.stringify({ type: "exec", id: 1 })],
    ["extra fields", JSON.stringify({ type: "subscribe", also: "this" })],
    ["a call without an id", JSON.stringify({ type: "call", method: "project", args: [] })],
  ])("refuses a malformed message (%s) and closes the socket", async (_what, text) => {
    const { ws } = await connect(`?token=${TOKEN}`);
    const done = closed(ws!);
    ws!.send(text);
    expect((await nextReply(ws!)).type).toBe("refused");
    expect(await done).toBe(1008);
  });

  it("streams live events after subscribe, and stops after unsubscribe", async () => {
    const { ws } = await connect(`?token=${TOKEN}`);
    ws!.send(JSON.stringify({ type: "subscribe" }));
    await expect.poll(() => listeners.size).toBe(1);
    const event: LiveEvent = {
      type: "problem",
      data: { time: 1, message: "hello", objectId: null },
    };
    const got = nextReply(ws!);
    for (const l of listeners) l([event]);
    expect(await got).toEqual({ type: "events", batch: [event] });
    ws!.send(JSON.stringify({ type: "unsubscribe" }));
    await expect.poll(() => listeners.size).toBe(0);
    ws!.close();
  });
});
