// The Inspector's frame rate while the engine streams lifecycle transitions
// (issue 12's UI floor: >= 50 frames per second while the engine streams
// 5,000 transitions per second). `terrarium ui` serves the bench's counter
// project with idleAfterMs 0, so every request to an object that had a quiet
// moment makes it Idle -> Processing -> Active -> Idle: with a few hundred live
// objects under load, the engine streams thousands of real transitions a
// second. Chromium shows the Inspector (the objects table, every row's state
// changing) while this bench, a second client of the same bridge, counts the
// transitions streamed. Frames are counted with requestAnimationFrame in the
// page: first with the engine quiet, then under load. A benchmark, not a
// test: it prints PASS/FAIL and exits 0 whenever it ran. Needs a built
// renderer (`npx electron-vite build`).
//
//   npm run bench:ui -- [--objects N] [--connections N] [--seconds S]
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "@playwright/test";
import WebSocket from "ws";

const ROOT = resolve(import.meta.dirname, "..");
const FLOOR_FPS = 50;
const FLOOR_TRANSITIONS = 5_000;
const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "400" },
    connections: { type: "string", default: "50" },
    seconds: { type: "string", default: "10" },
  },
});
const objects = Number(values.objects);
const connections = Number(values.connections);
const seconds = Number(values.seconds);

const root = mkdtempSync(join(tmpdir(), "terrarium-fps-"));
const dir = join(root, "project");
cpSync(join(ROOT, "bench", "projects", "counter"), dir, { recursive: true });
// Idle as soon as nothing is in flight; never hibernate during the run, so
// the transitions are the objects' own and no cold starts slow the load.
writeFileSync(
  join(dir, "terrarium.json"),
  JSON.stringify({
    lifecycle: {
      idleAfterMs: Number(process.env["IDLE"] ?? 0),
      hibernateAfterMs: 3_600_000,
      maxLiveObjects: objects + 10,
    },
  }),
);
const child = spawn(
  process.execPath,
  [
    join(ROOT, "bin", "terrarium.js"),
    "ui",
    dir,
    "--port",
    "0",
    "--router-port",
    "0",
    "--data",
    join(root, "data"),
    "--traces",
    "off",
    "--quiet",
  ],
  { stdio: ["ignore", "pipe", "inherit"], detached: true },
);
let out = "";
child.stdout.on("data", (d: Buffer) => (out += d.toString()));
const { ui, router } = await new Promise<{ ui: string; router: string }>((ok, fail) => {
  child.stdout.on("data", () => {
    const u = /UI on (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(out);
    const r = /Router on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (u && r) ok({ ui: u[1]!, router: r[1]! });
  });
  child.once("exit", (code) => fail(new Error(`terrarium ui exited with ${code}:\n${out}`)));
});

// This bench's own client of the bridge: counts what the engine streams.
const counts = { transitions: 0, dropped: 0 };
const bridge = new URL(ui);
const socket = new WebSocket(`ws://${bridge.host}/api?token=${bridge.searchParams.get("token")}`);
await new Promise<void>((ok, fail) => {
  socket.once("open", () => ok());
  socket.once("error", fail);
});
socket.on("message", (data: Buffer) => {
  const m = JSON.parse(data.toString()) as { type: string; batch?: { type: string }[]; count?: number };
  if (m.type === "events") for (const e of m.batch ?? []) if (e.type === "transition") counts.transitions++;
  if (m.type === "dropped") counts.dropped += m.count ?? 0;
});
socket.send(JSON.stringify({ type: "subscribe" }));

const agent = new Agent({ keepAlive: true, maxSockets: connections });
const get = (path: string): Promise<number> =>
  new Promise((ok, fail) => {
    const req = httpRequest(`${router}${path}`, { agent }, (res) => {
      res.resume();
      res.once("end", () => ok(res.statusCode ?? 0));
    });
    req.once("error", fail);
    req.end();
  });

/** A closed loop: each connection sends its next request when the last is answered, round-robin over the objects. */
async function drive(untilMs: number): Promise<{ sent: number; failed: number }> {
  let next = 0;
  let sent = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < untilMs) {
        const status = await get(`/c/o${next++ % objects}`);
        sent++;
        if (status !== 200) failed++;
      }
    }),
  );
  return { sent, failed };
}

interface Frames {
  fps: number;
  worstMs: number;
  p99Ms: number;
}

const browser = await chromium.launch({
  executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
try {
  // Every object live before the page opens.
  const warm = Date.now();
  for (let i = 0; i < objects; i += connections) {
    await Promise.all(
      Array.from({ length: Math.min(connections, objects - i) }, (_, k) => get(`/c/o${i + k}`)),
    );
  }
  console.log(`${objects} objects live in ${((Date.now() - warm) / 1000).toFixed(1)} s`);

  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(ui);
  await page.locator('[data-app-ready="true"]').waitFor();
  await page.getByRole("tab", { name: "Inspector" }).click();
  await page.getByText(`of ${objects.toLocaleString("en-US")} objects`).waitFor();

  // Strings: this file is type-checked without the DOM library.
  const measure = async (ms: number): Promise<Frames> =>
    page.evaluate<Frames>(`new Promise((ok) => {
      const times = [];
      const start = performance.now();
      const frame = (t) => {
        times.push(t);
        if (t - start < ${ms}) requestAnimationFrame(frame);
        else {
          const gaps = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
          ok({
            fps: (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000),
            worstMs: gaps[gaps.length - 1] ?? 0,
            p99Ms: gaps[Math.floor(gaps.length * 0.99)] ?? 0,
          });
        }
      };
      requestAnimationFrame(frame);
    })`);

  const quiet = await measure(3_000);
  console.log(
    `quiet engine: ${quiet.fps.toFixed(1)} fps, p99 frame ${quiet.p99Ms.toFixed(1)} ms, worst ${quiet.worstMs.toFixed(1)} ms`,
  );

  const loadStart = Date.now();
  const running = drive(loadStart + seconds * 1000);
  // One second for the stream to reach its rate, then frames and transitions counted over the same window.
  await new Promise((r) => setTimeout(r, 1_000));
  const before = counts.transitions;
  const t0 = Date.now();
  const busy = await measure((seconds - 2) * 1000);
  const rate = (counts.transitions - before) / ((Date.now() - t0) / 1000);
  const load = await running;
  const reqRate = load.sent / ((Date.now() - loadStart) / 1000);
  console.log(
    `under load: ${busy.fps.toFixed(1)} fps, p99 frame ${busy.p99Ms.toFixed(1)} ms, worst ${busy.worstMs.toFixed(1)} ms; ` +
      `${Math.round(rate).toLocaleString("en-US")} transitions/s streamed, ${Math.round(reqRate).toLocaleString("en-US")} requests/s, ` +
      `${load.failed} failed, ${counts.dropped} events dropped by the bridge; load average ${loadavg()[0]!.toFixed(2)}`,
  );
  await page.screenshot({ path: join(ROOT, "bench", "results", "ui-fps.png") });
  const verdict = (ok: boolean): string => (ok ? "PASS" : "FAIL");
  console.log(
    `floor: >= ${FLOOR_FPS} fps while >= ${FLOOR_TRANSITIONS.toLocaleString("en-US")} transitions/s: ` +
      `${verdict(busy.fps >= FLOOR_FPS)} fps, ${verdict(rate >= FLOOR_TRANSITIONS)} rate`,
  );
} finally {
  socket.close();
  agent.destroy();
  await browser.close();
  if (child.exitCode === null) {
    process.kill(-child.pid!, "SIGTERM");
    await new Promise((ok) => child.once("exit", ok));
  }
  rmSync(root, { recursive: true, force: true });
}
