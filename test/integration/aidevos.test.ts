import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import WebSocket from "ws";
import { exportProject } from "../../runtime/export/exporter.ts";
import { linkToolchain, runCheck } from "../../runtime/export/validate.ts";
import { startTerrarium, startWorkerd, type RunningServer } from "../fidelity/harness.ts";
import { serve } from "../helpers/cli.ts";

/**
 * The AIDevOS sample's API Gateway calling out to a third-party API (a
 * local server standing in for it), under `terrarium serve` and under
 * workerd after export. Its request script (requests.json) is replayed on
 * both by export.test.ts.
 */
const REPO = resolve(import.meta.dirname, "..", "..");
const SAMPLE = join(REPO, "resources", "samples", "aidevos");

let root: string;
let upstream: Server;
let upstreamCalls = 0;
let upstreamFails = false;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "terrarium-aidevos-"));
  upstream = createServer((req, res) => {
    upstreamCalls++;
    if (upstreamFails) {
      res.writeHead(503).end("down");
      return;
    }
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ symbol: "DO", price: 42 }));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1/quote`;
  const project = join(root, "project");
  cpSync(SAMPLE, project, { recursive: true, filter: (src) => !src.includes(".terrarium") });
  const config = join(project, "wrangler.jsonc");
  writeFileSync(config, readFileSync(config, "utf8").replace("https://api.example.com/v1/quote", url));
  const out = join(root, "out");
  await exportProject(project, out);
  linkToolchain(out);
  const built = await runCheck("dry-run", out, { distDir: join(root, "dist") });
  if (!built.ok) throw new Error(`wrangler exited ${built.code}:\n${built.output}`);
}, 120_000);

afterAll(async () => {
  await new Promise((r) => upstream?.close(r));
  if (root) rmSync(root, { recursive: true, force: true });
});

async function quoteCalls(server: RunningServer): Promise<{ status: number; body: unknown }[]> {
  const post = (path: string, body: unknown, token?: string): Promise<Response> =>
    fetch(server.url + path, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const { token } = (await (
    await post("/auth/signup", { email: "grace@example.com", password: "hopper hopper", name: "Grace" })
  ).json()) as { token: string };
  const { key } = (await (await post("/keys", { label: "quotes" }, token)).json()) as { key: string };
  const call = async (): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${server.url}/api/v1/quote`, { headers: { "x-api-key": key } });
    return { status: res.status, body: await res.json() };
  };
  upstreamFails = false;
  const ok = await call();
  upstreamFails = true;
  const failed = await call();
  upstreamFails = false;
  return [ok, failed];
}

describe("AIDevOS API Gateway and its third-party API", () => {
  it.each([
    ["terrarium serve", () => startTerrarium(join(root, "project"))],
    [
      "workerd, exported",
      () => startWorkerd(join(root, "out"), { scriptPath: join(root, "dist", "entry.js") }),
    ],
  ])(
    "calls out and passes the answer on, or a 502 when it fails (%s)",
    async (_name, start) => {
      const before = upstreamCalls;
      const server = await start();
      try {
        expect(await quoteCalls(server)).toEqual([
          { status: 200, body: { quote: { symbol: "DO", price: 42 } } },
          { status: 502, body: { error: "the upstream API answered 503" } },
        ]);
      } finally {
        await server.stop();
      }
      expect(upstreamCalls - before).toBe(2);
    },
    60_000,
  );
});

describe("AIDevOS with its mock third-party API (terrarium.json mocks)", () => {
  it("answers the gateway's outbound fetch from the mock while Terrarium runs it", async () => {
    const project = join(root, "mocked");
    cpSync(SAMPLE, project, { recursive: true, filter: (src) => !src.includes(".terrarium") });
    const file = join(project, "terrarium.json");
    const config = JSON.parse(readFileSync(file, "utf8")) as { mocks: { errorRate?: number }[] };
    config.mocks[0]!.errorRate = 0;
    writeFileSync(file, JSON.stringify(config));
    const server = await startTerrarium(project);
    try {
      const post = (path: string, body: unknown, token?: string): Promise<Response> =>
        fetch(server.url + path, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        });
      const { token } = (await (
        await post("/auth/signup", { email: "mock@example.com", password: "mocked mocked" })
      ).json()) as { token: string };
      const { key } = (await (await post("/keys", {}, token)).json()) as { key: string };
      const res = await fetch(`${server.url}/api/v1/quote`, { headers: { "x-api-key": key } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ quote: { symbol: "DO", price: 42.5, source: "Terrarium mock" } });
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe("AIDevOS notifications over hibernating WebSockets", () => {
  it.each([
    ["terrarium serve", () => startTerrarium(join(root, "project"))],
    [
      "workerd, exported",
      () => startWorkerd(join(root, "out"), { scriptPath: join(root, "dist", "entry.js") }),
    ],
    [
      "terrarium serve, hibernating between events",
      async (): Promise<RunningServer> => {
        const served = await serve(join(root, "project"), [
          "--data",
          join(root, "hibernating-data"),
          "--idle-after",
          "50",
          "--hibernate-after",
          "100",
          "--quiet",
        ]);
        return { url: served.url, stop: async () => void (await served.stop()) };
      },
    ],
  ])(
    "pushes a notice to a connected client when the bus delivers an event (%s)",
    async (name, start) => {
      const server = await start();
      try {
        const signup = await fetch(`${server.url}/auth/signup`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: "ws@example.com", password: "sockets sockets", name: "Sock" }),
        });
        const { token } = (await signup.json()) as { token: string };
        const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/notifications/ws?token=${token}`);
        const messages: unknown[] = [];
        ws.on("message", (data: Buffer) => messages.push(JSON.parse(data.toString())));
        await new Promise((resolveOpen, reject) => {
          ws.once("open", resolveOpen);
          ws.once("error", reject);
        });
        // Long enough for an object on a short hibernation timeout to hibernate with the socket open.
        await new Promise((r) => setTimeout(r, 1_000));
        await fetch(`${server.url}/records`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ title: "pushed" }),
        });
        const deadline = Date.now() + 10_000;
        while (!messages.some((m) => (m as { text?: string }).text === 'Saved "pushed".')) {
          if (Date.now() > deadline) throw new Error(`no push: ${JSON.stringify(messages)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(messages).toContainEqual({ type: "notice", id: 2, text: 'Saved "pushed".' });
        ws.close(1000, "done");
      } finally {
        await server.stop();
      }
      if (name.includes("hibernating")) {
        // The registry's transition log: the object slept with the socket open, and the event woke it.
        const db = new Database(join(root, "hibernating-data", "registry.sqlite"), { readonly: true });
        const states = db
          .prepare("SELECT to_state FROM transitions WHERE class_name = 'Notifications' ORDER BY seq")
          .pluck()
          .all() as string[];
        db.close();
        expect(states.slice(states.indexOf("Hibernating"))).toContain("Initializing");
        expect(states).toContain("Hibernating");
      }
    },
    60_000,
  );
});
