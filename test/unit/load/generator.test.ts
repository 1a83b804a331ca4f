import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { parseLoadProfile } from "../../../runtime/config/terrarium.ts";
import { Generator, type GeneratorTick } from "../../../runtime/load/generator.ts";
import { Histogram } from "../../../runtime/load/histogram.ts";
import { planLoad } from "../../../runtime/load/profile.ts";

interface Seen {
  paths: string[];
  wsConnects: string[];
  wsMessages: string[];
}

let server: Server | null = null;
let wss: WebSocketServer | null = null;

afterEach(async () => {
  wss?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(null));
  server = wss = null;
});

/** A tiny HTTP + WebSocket server: `/slow` waits, `/fail` answers 500, a WebSocket echoes. */
async function start(
  handler?: (path: string) => Promise<number> | number,
): Promise<{ url: string; seen: Seen }> {
  const seen: Seen = { paths: [], wsConnects: [], wsMessages: [] };
  server = createServer((req, res) => {
    seen.paths.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", async () => {
      const status = handler ? await handler(req.url ?? "/") : 200;
      res.writeHead(status).end("ok");
    });
  });
  wss = new WebSocketServer({ server });
  wss.on("connection", (ws, req) => {
    seen.wsConnects.push(req.url ?? "");
    ws.on("message", (m) => {
      seen.wsMessages.push(String(m));
      ws.send(`echo ${String(m)}`);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

describe("load generator", () => {
  it("runs closed-model web clients: HTTP requests plus a WebSocket each that stays open and talks", async () => {
    const { url, seen } = await start();
    const plan = planLoad(
      "web",
      parseLoadProfile({
        clients: 3,
        thinkTime: "20ms",
        duration: "800ms",
        client: "web",
        web: { socket: "/ws/{key}", messageEvery: "100ms", message: "hello {vu}.{seq}" },
        keys: "uniform:3",
        requests: [{ method: "POST", path: "/c/{key}/incr", body: "n={seq}" }],
      }),
      url,
    );
    const ticks: GeneratorTick[] = [];
    const r = await new Generator(plan, (t) => ticks.push(t)).run();
    expect(r.completed).toBe(r.sent);
    // More than one request per client: the closed loop ran (how many is the machine's speed, not the test's).
    expect(r.completed).toBeGreaterThan(3);
    expect(r.statuses).toEqual({ "200": r.completed });
    expect(seen.paths.every((p) => /^POST \/c\/[012]\/incr$/.test(p))).toBe(true);
    expect(seen.wsConnects).toHaveLength(3);
    expect(seen.wsConnects.every((p) => /^\/ws\/[012]$/.test(p))).toBe(true);
    expect(r.ws).toMatchObject({ opened: 3, open: 0 });
    // Each socket talked at least once.
    expect(r.ws!.sent).toBeGreaterThanOrEqual(3);
    expect(r.ws!.received).toBeGreaterThanOrEqual(3);
    expect(seen.wsMessages).toContain("hello 0.0");
    expect(r.errors).toEqual({});
    expect(ticks.reduce((n, t) => n + t.completed, 0)).toBe(r.completed);
  });

  it("measures latency from when each request was due, so a stall is not hidden (no coordinated omission)", async () => {
    let stalled = false;
    const { url } = await start(async (path) => {
      if (path === "/x/20" && !stalled) {
        stalled = true;
        await new Promise((r) => setTimeout(r, 300));
      }
      return 200;
    });
    // One connection: while request 20 stalls, the ones due after it wait behind it.
    const plan = planLoad(
      "co",
      parseLoadProfile({ rate: 100, duration: "1s", connections: 1, requests: [{ path: "/x/{seq}" }] }),
      url,
    );
    const r = await new Generator(plan, () => {}).run();
    expect(r.completed).toBe(100);
    const h = Histogram.fromJSON(r.latency);
    // About 30 requests were due during the stall; a tool timing from the send would see one slow request.
    expect(h.percentile(80) / 1000).toBeGreaterThan(50);
    expect(h.max / 1000).toBeGreaterThan(280);
  });

  it("gives the mobile client latency, jitter and dropped connections", async () => {
    const { url } = await start();
    const plan = planLoad(
      "mobile",
      parseLoadProfile({
        rate: 300,
        duration: "1s",
        client: "mobile",
        mobile: { latency: "40ms", jitter: "10ms", dropRate: 0.2 },
        seed: 11,
        requests: [{ path: "/m" }],
      }),
      url,
    );
    const r = await new Generator(plan, () => {}).run();
    expect(r.sent).toBe(300);
    const dropped = r.errors.dropped ?? 0;
    expect(dropped).toBeGreaterThan(30);
    expect(dropped).toBeLessThan(95);
    expect(r.completed + dropped).toBe(300);
    expect(Histogram.fromJSON(r.latency).min / 1000).toBeGreaterThanOrEqual(29);
  });

  it("sorts failures by kind: HTTP status, refused connections, the open model's backlog", async () => {
    const { url } = await start((path) =>
      path.startsWith("/fail") ? 503 : path.startsWith("/bad") ? 404 : 200,
    );
    const plan = planLoad(
      "errors",
      parseLoadProfile({
        rate: 200,
        duration: "500ms",
        requests: [{ path: "/fail" }, { path: "/bad" }, { path: "/ok", weight: 2 }],
      }),
      url,
    );
    const r = await new Generator(plan, () => {}).run();
    expect((r.errors.http_5xx ?? 0) + (r.errors.http_4xx ?? 0) + (r.statuses["200"] ?? 0)).toBe(100);
    expect(r.errors.http_5xx).toBeGreaterThan(10);
    expect(r.errors.http_4xx).toBeGreaterThan(10);

    const refused = planLoad(
      "refused",
      parseLoadProfile({ rate: 50, duration: "200ms", requests: [{ path: "/" }] }),
      "http://127.0.0.1:1",
    );
    const rr = await new Generator(refused, () => {}).run();
    expect(rr.errors.refused).toBe(10);
    expect(rr.errorSamples[0]).toMatch(/ECONNREFUSED|connect/);

    const never = (): Promise<number> => new Promise(() => {});
    await new Promise((r) => server!.close(r));
    const slow = await start(never);
    const capped = planLoad(
      "backlog",
      parseLoadProfile({
        rate: 100,
        duration: "300ms",
        maxInFlight: 5,
        timeout: "200ms",
        requests: [{ path: "/" }],
      }),
      slow.url,
    );
    const rc = await new Generator(capped, () => {}).run();
    expect(rc.errors.backlog).toBe(25);
    expect(rc.sent).toBe(5);
    expect(rc.errors.timeout).toBe(5);
  });
});
