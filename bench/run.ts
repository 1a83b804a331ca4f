/**
 * `npm run bench`: the same Durable Object project (bench/projects/counter)
 * under Terrarium and under workerd (Miniflare), one after the other in one
 * run, driven by a load generator in a process of its own. Prints a table
 * per scenario with the ratio Terrarium/workerd, checks the team's floors
 * (PASS/FAIL, informational: the exit code is 0 whenever the bench ran), and
 * writes everything to bench/results/<timestamp>.json.
 *
 * Flags: --duration S (default 8), --warmup S (1.5), --cold N (200),
 * --cold-gap MS (100), --connections N (50), --objects N (100),
 * --live N (1000, scenario 5), --touch N (10000, scenario 6), --long
 * (adds scenario 6), --scenarios LIST (e.g. 5 or 1,2,3,4),
 * --only terrarium|workerd, --terrarium-args "FLAGS" (more flags for every
 * `terrarium serve`, e.g. "--traces off"; printed and saved with the results),
 * --terrarium-root DIR (run another checkout's bin/terrarium.js, e.g. a git
 * worktree of an older commit, against this bench and project).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Histogram } from "../runtime/load/histogram.ts";
import { LoadClient } from "./lib/load-client.ts";
import { CLK_TCK, cpuMicros, threadCount, threadCpu, totalRss } from "./lib/proc.ts";
import type { LoadJob, LoadResult } from "./lib/protocol.ts";
import { startTerrarium, startWorkerd, type RunningServer } from "./lib/servers.ts";
import { defaultLifecycleOptions } from "../runtime/lifecycle/lifecycle.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PROJECT_DIR = join(REPO_ROOT, "bench", "projects", "counter");
const RESULTS_DIR = join(REPO_ROOT, "bench", "results");

if (process.platform !== "linux") {
  process.stderr.write("bench: needs Linux (server CPU and memory are read from /proc)\n");
  process.exit(1);
}

// ---- options ----

const { values: flags } = parseArgs({
  options: {
    duration: { type: "string", default: "8" },
    warmup: { type: "string", default: "1.5" },
    cold: { type: "string", default: "200" },
    "cold-gap": { type: "string", default: "100" },
    connections: { type: "string", default: "50" },
    objects: { type: "string", default: "100" },
    live: { type: "string", default: "1000" },
    touch: { type: "string", default: "10000" },
    long: { type: "boolean", default: false },
    scenarios: { type: "string" },
    only: { type: "string" },
    "terrarium-args": { type: "string", default: "" },
    "terrarium-root": { type: "string" },
  },
});

function num(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`bench: --${name} needs a number >= ${min}, got "${v}"\n`);
    process.exit(2);
  }
  return n;
}

const cfg = {
  durationMs: num("duration", flags.duration, 0.1) * 1000,
  warmupMs: num("warmup", flags.warmup, 0) * 1000,
  coldCount: Math.round(num("cold", flags.cold, 1)),
  coldGapMs: Math.round(num("cold-gap", flags["cold-gap"], 0)),
  connections: Math.round(num("connections", flags.connections, 1)),
  objects: Math.round(num("objects", flags.objects, 1)),
  live: Math.round(num("live", flags.live, 1)),
  touch: Math.round(num("touch", flags.touch, 1)),
};
const scenarios = new Set(
  (flags.scenarios ?? (flags.long ? "1,2,3,4,5,6" : "1,2,3,4,5")).split(",").map((x) => Number(x.trim())),
);
if ([...scenarios].some((n) => !Number.isInteger(n) || n < 1 || n > 6)) {
  process.stderr.write(`bench: --scenarios takes numbers from 1 to 6, e.g. 1,2,5\n`);
  process.exit(2);
}
const sides = flags.only ? [flags.only] : ["terrarium", "workerd"];
if (sides.some((s) => s !== "terrarium" && s !== "workerd")) {
  process.stderr.write(`bench: --only takes terrarium or workerd\n`);
  process.exit(2);
}

// ---- cleanup of everything this process started ----

const servers = new Set<RunningServer>();
let load: LoadClient | null = null;
let cleaning: Promise<void> | null = null;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled([...servers].map((s) => s.stop()));
    servers.clear();
    await load?.stop().catch(() => {});
  })();
  return cleaning;
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (interrupted) {
      process.stderr.write(`\nbench: ${signal} again, killing everything now\n`);
      process.exit(130);
    }
    interrupted = true;
    process.stderr.write(`\nbench: ${signal}, stopping the servers...\n`);
    void cleanup().finally(() => process.exit(130));
  });
}
// Whatever happens, no server outlives the bench.
process.on("exit", () => {
  for (const s of servers) s.killNow();
  load?.killNow();
});

function progress(msg: string): void {
  process.stderr.write(`  · ${msg}\n`);
}

// ---- measurement ----

interface ThreadShare {
  tid: number;
  comm: string;
  main: boolean;
  cpuMicrosPerRequest: number;
}

interface Measured {
  requests: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  elapsedMs: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** Server CPU (user+system) over the run divided by the requests served. */
  cpuMicrosPerRequest: number;
  /** Server CPU over the run as a share of one core (2 cores = 2.0). */
  serverCores: number;
  loadgenCores: number;
  countMismatches: number;
  /** Per-thread CPU of the server process with the most CPU (Terrarium: the serve process). */
  threads: ThreadShare[];
}

async function measure(server: RunningServer, job: LoadJob): Promise<Measured> {
  const pids = server.serverPids();
  const busiest = pids[0]!;
  const threads0 = new Map(threadCpu(busiest).map((t) => [t.tid, t.cpuMicros]));
  const cpu0 = cpuMicros(pids);
  const r: LoadResult = await load!.run(job);
  const cpu1 = cpuMicros(pids);
  const threads1 = threadCpu(busiest);
  const h = Histogram.fromJSON(r.latency);
  const requests = r.ok + r.errors;
  const per = (micros: number): number => (requests > 0 ? micros / requests : 0);
  const threads = threads1
    .map((t) => ({
      tid: t.tid,
      comm: t.comm,
      main: t.tid === busiest,
      cpuMicrosPerRequest: per(t.cpuMicros - (threads0.get(t.tid) ?? 0)),
    }))
    .filter((t) => t.cpuMicrosPerRequest > 0)
    .sort((a, b) => b.cpuMicrosPerRequest - a.cpuMicrosPerRequest);
  return {
    requests,
    ok: r.ok,
    errors: r.errors,
    errorSamples: r.errorSamples,
    elapsedMs: r.elapsedMs,
    requestsPerSecond: (r.ok / r.elapsedMs) * 1000,
    p50Ms: h.percentile(50) / 1000,
    p99Ms: h.percentile(99) / 1000,
    meanMs: h.mean / 1000,
    maxMs: h.max / 1000,
    cpuMicrosPerRequest: per(cpu1 - cpu0),
    serverCores: (cpu1 - cpu0) / 1000 / r.elapsedMs,
    loadgenCores: r.loadgenCpuShare,
    countMismatches: r.countMismatches,
    threads,
  };
}

interface LiveResults {
  objects: number;
  /** Terrarium's extra serve flags for this scenario (none for workerd). */
  serverArgs: string[];
  /** The first request to each object, `connections` at a time. */
  prime: Measured;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** Threads of the server processes before and after (Terrarium: one worker thread per live object). */
  threadsBefore: number;
  threadsAfter: number;
  /** (RSS after - RSS before) / objects. */
  memoryPerObjectBytes: number;
}

interface TouchResults {
  objects: number;
  /** Terrarium's default live cap on this machine (null for workerd). */
  liveCap: number | null;
  run: Measured;
  rssStartBytes: number;
  rssEndBytes: number;
  /** Highest RSS seen (sampled every 250 ms) during the run. */
  rssPeakBytes: number;
  threadsEnd: number;
  threadsPeak: number;
}

interface ServerResults {
  url?: string;
  startupMs?: number;
  hot?: Measured & {
    /** Server RSS after scenario 1 minus before it: memory kept per request shows up here. */
    rssGrowthBytes: number;
  };
  spread?: Measured & {
    /** First request to each of the objects, `connections` at a time, before the warm-up. */
    primeMs: number;
    primeErrors: number;
    rssBeforeBytes: number;
    rssAfterBytes: number;
    /** (RSS after scenario 2 - RSS before its first request) / objects. */
    memoryPerObjectBytes: number;
  };
  /** Never-seen objects, one request at a time, `coldGapMs` apart: the latency of a cold start. */
  cold?: Measured;
  /** Never-seen objects back to back: how fast new objects can be created, one after the other. */
  coldStorm?: Measured;
  /** workerd only: CPU of the Node process hosting Miniflare, per request of scenario 1 (requests do not pass through it). */
  hostCpuMicrosPerRequest?: number;
  /** Scenario 5: `live` objects live at once on a fresh server. */
  live?: LiveResults;
  /** Scenario 6: `touch` distinct objects in one load run on a fresh server. */
  touch?: TouchResults;
}

/** Waits until the server's thread count has not changed for a second (pool refills, thread starts), at most 30 s. */
async function settle(server: RunningServer): Promise<void> {
  let last = -1;
  let stableSince = performance.now();
  const end = performance.now() + 30_000;
  while (performance.now() < end) {
    const n = server.serverPids().reduce((a, p) => a + threadCount(p), 0);
    if (n !== last) {
      last = n;
      stableSince = performance.now();
    } else if (performance.now() - stableSince >= 1_000) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function threadsOf(server: RunningServer): number {
  return server.serverPids().reduce((a, p) => a + threadCount(p), 0);
}

/** `--terrarium-args "..."`: more flags for every `terrarium serve` (e.g. `--traces off`), split on spaces. */
const terrariumArgs = (flags["terrarium-args"] ?? "").split(" ").filter((a) => a !== "");

/** `--terrarium-root DIR`: the checkout whose `bin/terrarium.js` serves (default: this one). */
const terrariumRoot = flags["terrarium-root"] ? resolve(flags["terrarium-root"]) : REPO_ROOT;

async function startServer(side: string, extraTerrariumArgs: string[] = []): Promise<RunningServer> {
  const t0 = performance.now();
  const server =
    side === "terrarium"
      ? await startTerrarium(terrariumRoot, PROJECT_DIR, [...terrariumArgs, ...extraTerrariumArgs])
      : await startWorkerd(REPO_ROOT, PROJECT_DIR);
  servers.add(server);
  progress(
    `${server.url} ready in ${(performance.now() - t0).toFixed(0)} ms (server pids ${server.serverPids().join(", ")})`,
  );
  return server;
}

async function stopServer(server: RunningServer, label: string): Promise<void> {
  const problems = server.output().trim();
  if (problems) progress(`${label} wrote:\n${problems.split("\n").slice(-20).join("\n")}`);
  progress(`stopping ${label}`);
  await server.stop();
  servers.delete(server);
}

async function runServer(side: string): Promise<ServerResults> {
  const label = side === "terrarium" ? "Terrarium" : "workerd";
  process.stderr.write(`\n${label}\n`);
  const results: ServerResults = {};
  if ([1, 2, 3, 4].some((n) => scenarios.has(n))) {
    const t0 = performance.now();
    const server = await startServer(side);
    results.startupMs = performance.now() - t0;
    results.url = server.url;
    try {
      await runMain(side, server, results);
    } finally {
      await stopServer(server, label);
    }
  }
  if (scenarios.has(5) && !interrupted) results.live = await runLive(side, label);
  if (scenarios.has(6) && !interrupted) results.touch = await runTouch(side, label);
  return results;
}

async function runMain(side: string, server: RunningServer, results: ServerResults): Promise<void> {
  const url = server.url;
  const conns = cfg.connections;
  const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

  // (1) one hot object
  if (scenarios.has(1)) {
    const hotNames = ["hot"];
    if (cfg.warmupMs > 0) {
      progress(`scenario 1: warm-up ${secs(cfg.warmupMs)}`);
      await load!.run({
        kind: "duration",
        url,
        connections: conns,
        durationMs: cfg.warmupMs,
        names: hotNames,
      });
    }
    progress(`scenario 1: one hot object, ${conns} connections, ${secs(cfg.durationMs)}`);
    const hostCpu0 = side === "workerd" ? cpuMicros([server.pid]) : 0;
    const hotRss0 = totalRss(server.serverPids());
    const hot = await measure(server, {
      kind: "duration",
      url,
      connections: conns,
      durationMs: cfg.durationMs,
      names: hotNames,
    });
    results.hot = { ...hot, rssGrowthBytes: totalRss(server.serverPids()) - hotRss0 };
    if (side === "workerd")
      results.hostCpuMicrosPerRequest = (cpuMicros([server.pid]) - hostCpu0) / Math.max(1, hot.requests);
  }

  // (2) many objects
  if (scenarios.has(2)) {
    const names = Array.from({ length: cfg.objects }, (_, i) => `obj-${i}`);
    const rssBeforeBytes = totalRss(server.serverPids());
    progress(`scenario 2: first request to each of ${cfg.objects} objects, ${conns} at a time`);
    const prime = await load!.run({ kind: "each", url, connections: conns, names });
    if (cfg.warmupMs > 0) {
      progress(`scenario 2: warm-up ${secs(cfg.warmupMs)}`);
      await load!.run({ kind: "duration", url, connections: conns, durationMs: cfg.warmupMs, names });
    }
    progress(`scenario 2: ${cfg.objects} objects, ${conns} connections, ${secs(cfg.durationMs)}`);
    const spread = await measure(server, {
      kind: "duration",
      url,
      connections: conns,
      durationMs: cfg.durationMs,
      names,
    });
    const rssAfterBytes = totalRss(server.serverPids());
    results.spread = {
      ...spread,
      primeMs: prime.elapsedMs,
      primeErrors: prime.errors,
      rssBeforeBytes,
      rssAfterBytes,
      memoryPerObjectBytes: (rssAfterBytes - rssBeforeBytes) / cfg.objects,
    };
  }

  // (3) cold starts: paced (the latency of one cold start), then back to back (a storm of them)
  if (scenarios.has(3)) {
    progress(`scenario 3: ${cfg.coldCount} never-seen objects, one every ${cfg.coldGapMs} ms`);
    const coldNames = Array.from({ length: cfg.coldCount }, (_, i) => `cold-${side}-${i}`);
    results.cold = await measure(server, {
      kind: "each",
      url,
      connections: 1,
      names: coldNames,
      gapMs: cfg.coldGapMs,
    });
  }
  if (scenarios.has(4)) {
    progress(`scenario 4: ${cfg.coldCount} never-seen objects, back to back`);
    const stormNames = Array.from({ length: cfg.coldCount }, (_, i) => `storm-${side}-${i}`);
    results.coldStorm = await measure(server, { kind: "each", url, connections: 1, names: stormNames });
  }
}

/**
 * Scenario 5's first requests go a few at a time: each is a thread start in
 * Terrarium, and 50 of them queued behind two thread starts at a time on a
 * busy machine outlast the load generator's 15 s timeout.
 */
const LIVE_CONNECTIONS = 4;
/**
 * Scenarios 5 and 6 are thread starts and cold starts back to back: on a
 * machine with a load average of 20+ one can wait many seconds behind the
 * others, which is slow, not an error.
 */
const SLOW_TIMEOUT_MS = 120_000;

/** Terrarium's flags for scenario 5: no object goes Idle or hibernates during it, and the cap lets all of them live. */
function liveArgs(): string[] {
  return ["--idle-after", "3600000", "--hibernate-after", "3600000", "--max-live", String(cfg.live)];
}

/** (5) N objects made live on a fresh server: RSS growth / N. */
async function runLive(side: string, label: string): Promise<LiveResults> {
  const args = side === "terrarium" ? liveArgs() : [];
  const server = await startServer(side, args);
  try {
    await settle(server);
    const rssBeforeBytes = totalRss(server.serverPids());
    const threadsBefore = threadsOf(server);
    progress(`scenario 5: first request to each of ${cfg.live} objects, ${LIVE_CONNECTIONS} at a time`);
    const names = Array.from({ length: cfg.live }, (_, i) => `live-${i}`);
    const prime = await measure(server, {
      kind: "each",
      url: server.url,
      connections: LIVE_CONNECTIONS,
      names,
      timeoutMs: SLOW_TIMEOUT_MS,
    });
    await settle(server);
    const rssAfterBytes = totalRss(server.serverPids());
    const threadsAfter = threadsOf(server);
    progress(
      `scenario 5: RSS ${((rssAfterBytes - rssBeforeBytes) / cfg.live / 1048576).toFixed(2)} MiB per object, ${threadsAfter - threadsBefore} threads more`,
    );
    return {
      objects: cfg.live,
      serverArgs: args,
      prime,
      rssBeforeBytes,
      rssAfterBytes,
      threadsBefore,
      threadsAfter,
      memoryPerObjectBytes: (rssAfterBytes - rssBeforeBytes) / cfg.live,
    };
  } finally {
    await stopServer(server, label);
  }
}

/** (6) N distinct objects touched once each, in a uniformly random order, on a fresh server with its default live cap. */
async function runTouch(side: string, label: string): Promise<TouchResults> {
  const server = await startServer(side);
  try {
    await settle(server);
    const rssStartBytes = totalRss(server.serverPids());
    const names = Array.from({ length: cfg.touch }, (_, i) => `touch-${i}`);
    for (let i = names.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [names[i], names[j]] = [names[j]!, names[i]!];
    }
    progress(`scenario 6: ${cfg.touch} distinct objects, ${cfg.connections} connections, each touched once`);
    let rssPeakBytes = rssStartBytes;
    let threadsPeak = threadsOf(server);
    const sampler = setInterval(() => {
      rssPeakBytes = Math.max(rssPeakBytes, totalRss(server.serverPids()));
      threadsPeak = Math.max(threadsPeak, threadsOf(server));
    }, 250);
    let run: Measured;
    try {
      run = await measure(server, {
        kind: "each",
        url: server.url,
        connections: cfg.connections,
        names,
        timeoutMs: SLOW_TIMEOUT_MS,
      });
    } finally {
      clearInterval(sampler);
    }
    const rssEndBytes = totalRss(server.serverPids());
    rssPeakBytes = Math.max(rssPeakBytes, rssEndBytes);
    return {
      objects: cfg.touch,
      liveCap: side === "terrarium" ? defaultLifecycleOptions().maxLiveObjects : null,
      run,
      rssStartBytes,
      rssEndBytes,
      rssPeakBytes,
      threadsEnd: threadsOf(server),
      threadsPeak,
    };
  } finally {
    await stopServer(server, label);
  }
}

// ---- durability ----

function terrariumDurability(): { journalMode: string; synchronous: string; text: string } {
  const file = join(REPO_ROOT, "runtime", "host", "object-database.ts");
  let src = "";
  try {
    src = readFileSync(file, "utf8");
  } catch {
    // reported below
  }
  const journal = /journal_mode\s*=\s*(\w+)/i.exec(src)?.[1]?.toUpperCase() ?? "default (DELETE)";
  const sync = /synchronous\s*=\s*(\w+)/i.exec(src)?.[1]?.toUpperCase() ?? "default (FULL)";
  const fsync =
    journal === "WAL" && (sync === "NORMAL" || sync === "OFF")
      ? "no fsync per commit: WAL syncs at checkpoints only"
      : sync === "OFF"
        ? "never fsynced"
        : "each commit fsynced";
  const text =
    `Durability: Terrarium uses SQLite journal_mode=${journal}, synchronous=${sync} ` +
    `(read from ${relative(REPO_ROOT, file)}); the writes of one turn of the object's event loop are one ` +
    `transaction, committed before the answer leaves (the output gate, runtime/host/output-gate.ts; ${fsync}). ` +
    `workerd commits to disk per output gate (WAL; an fsync per commit, before the response is released). ` +
    `Both keep their object databases on the same disk (under ${process.env.TMPDIR ?? "/tmp"}).`;
  return { journalMode: journal, synchronous: sync, text };
}

// ---- report ----

function fmt(n: number | undefined, digits = 1): string {
  if (n === undefined || !Number.isFinite(n)) return "-";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(t: number | undefined, w: number | undefined): number | undefined {
  if (t === undefined || w === undefined || w === 0) return undefined;
  return t / w;
}

function table(title: string, rows: [string, number | undefined, number | undefined, number][]): string {
  const head = ["", "Terrarium", "workerd", "Terrarium/workerd"];
  const body = rows.map(([name, t, w, digits]) => {
    const r = ratio(t, w);
    return [name, fmt(t, digits), fmt(w, digits), r === undefined ? "-" : `${fmt(r, 2)}x`];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    "  " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("   ");
  return [title, line(head), ...body.map(line)].join("\n");
}

function mib(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes / (1024 * 1024);
}

function threadsMore(l: LiveResults | undefined): number | undefined {
  return l ? l.threadsAfter - l.threadsBefore : undefined;
}

interface Floor {
  name: string;
  pass: boolean | null;
  detail: string;
}

/** Issue 12's floors. A floor whose numbers were not measured (scenario not run, one side only) is N/A. */
function floors(t: ServerResults | undefined, w: ServerResults | undefined): Floor[] {
  const out: Floor[] = [];
  const judge = (
    name: string,
    value: number | undefined,
    ok: (v: number) => boolean,
    shown: string,
  ): void => {
    out.push({
      name,
      pass: value === undefined || !Number.isFinite(value) ? null : ok(value),
      detail: value === undefined || !Number.isFinite(value) ? "not measured" : shown,
    });
  };
  const x = (r: number | undefined): string => `${fmt(r, 2)}x`;
  const ms = (v: number | undefined): string => `${fmt(v, 2)} ms`;
  const c = cfg.connections;

  const perObj = mib(t?.live?.memoryPerObjectBytes);
  judge(
    `Memory per live object <= 6 MiB (scenario 5, ${cfg.live} objects)`,
    perObj,
    (v) => v <= 6,
    `${fmt(perObj, 2)} MiB (workerd ${fmt(mib(w?.live?.memoryPerObjectBytes), 2)} MiB)`,
  );
  const cold = ratio(t?.cold?.p50Ms, w?.cold?.p50Ms);
  judge(
    `Cold start median <= 1.0x workerd (scenario 3, one every ${cfg.coldGapMs} ms)`,
    cold,
    (v) => v <= 1,
    x(cold),
  );
  const storm = ratio(t?.coldStorm?.p50Ms, w?.coldStorm?.p50Ms);
  judge(
    `Cold-start storm median <= 1.5x workerd (scenario 4, ${cfg.coldCount} back to back)`,
    storm,
    (v) => v <= 1.5,
    x(storm),
  );

  const hot = ratio(t?.hot?.requestsPerSecond, w?.hot?.requestsPerSecond);
  judge(`Scenario 1 req/s >= 5x workerd`, hot, (v) => v >= 5, x(hot));
  const hotP50 = t?.hot && w?.hot ? t.hot.p50Ms - w.hot.p50Ms : undefined;
  judge(
    `Scenario 1 p50 <= workerd's`,
    hotP50,
    (v) => v <= 0,
    `${ms(t?.hot?.p50Ms)} vs workerd ${ms(w?.hot?.p50Ms)}`,
  );
  judge(
    `Scenario 1 p99 <= 20 ms (Terrarium, ${c} connections)`,
    t?.hot?.p99Ms,
    (v) => v <= 20,
    ms(t?.hot?.p99Ms),
  );
  const spread = ratio(t?.spread?.requestsPerSecond, w?.spread?.requestsPerSecond);
  judge(`Scenario 2 req/s >= 4x workerd (${cfg.objects} objects)`, spread, (v) => v >= 4, x(spread));
  judge(
    `Scenario 2 p99 <= 30 ms (Terrarium, ${c} connections)`,
    t?.spread?.p99Ms,
    (v) => v <= 30,
    ms(t?.spread?.p99Ms),
  );
  const touch = t?.touch;
  judge(
    `Scenario 6: ${cfg.touch} distinct objects in one run, zero errors`,
    touch ? touch.run.errors + touch.run.countMismatches : undefined,
    (v) => v === 0,
    touch
      ? `${touch.run.ok} answered, ${touch.run.errors} errors, ${touch.run.countMismatches} count mismatches; RSS at the end ${fmt(mib(touch.rssEndBytes), 0)} MiB (peak ${fmt(mib(touch.rssPeakBytes), 0)} MiB), live cap ${touch.liveCap ?? "-"}`
      : "",
  );
  return out;
}

function report(t: ServerResults | undefined, w: ServerResults | undefined, durability: string): string {
  const out: string[] = [];
  const loadRows = (
    a: Measured | undefined,
    b: Measured | undefined,
  ): [string, number | undefined, number | undefined, number][] => [
    ["requests/s", a?.requestsPerSecond, b?.requestsPerSecond, 0],
    ["p50 latency (ms)", a?.p50Ms, b?.p50Ms, 2],
    ["p99 latency (ms)", a?.p99Ms, b?.p99Ms, 2],
    ["server CPU per request (µs)", a?.cpuMicrosPerRequest, b?.cpuMicrosPerRequest, 0],
    ["server CPU (cores busy)", a?.serverCores, b?.serverCores, 2],
    ["load generator CPU (cores)", a?.loadgenCores, b?.loadgenCores, 2],
    ["requests", a?.requests, b?.requests, 0],
    ["errors", a?.errors, b?.errors, 0],
  ];
  const dur = (cfg.durationMs / 1000).toFixed(1);
  if (scenarios.has(1)) {
    out.push(
      table(`Scenario 1: one hot object, ${cfg.connections} connections, ${dur} s`, loadRows(t?.hot, w?.hot)),
    );
    out.push("");
  }
  if (scenarios.has(2))
    out.push(
      table(
        `Scenario 2: ${cfg.objects} objects (random name per request), ${cfg.connections} connections, ${dur} s`,
        [
          ...loadRows(t?.spread, w?.spread),
          [`first touch of ${cfg.objects} objects (ms)`, t?.spread?.primeMs, w?.spread?.primeMs, 0],
          ["server RSS before (MiB)", mib(t?.spread?.rssBeforeBytes), mib(w?.spread?.rssBeforeBytes), 1],
          ["server RSS after (MiB)", mib(t?.spread?.rssAfterBytes), mib(w?.spread?.rssAfterBytes), 1],
          [
            "memory per live object (KiB)",
            (t?.spread?.memoryPerObjectBytes ?? NaN) / 1024,
            (w?.spread?.memoryPerObjectBytes ?? NaN) / 1024,
            0,
          ],
        ],
      ),
    );
  if (scenarios.has(2)) {
    out.push(
      `  memory per live object = (server RSS after scenario 2 - RSS before its first request) / ${cfg.objects}`,
    );
    out.push("");
  }
  const coldRows = (
    a: Measured | undefined,
    b: Measured | undefined,
  ): [string, number | undefined, number | undefined, number][] => [
    ["median first request (ms)", a?.p50Ms, b?.p50Ms, 2],
    ["p99 first request (ms)", a?.p99Ms, b?.p99Ms, 2],
    ["mean first request (ms)", a?.meanMs, b?.meanMs, 2],
    ["server CPU per cold start (µs)", a?.cpuMicrosPerRequest, b?.cpuMicrosPerRequest, 0],
    ["errors", a?.errors, b?.errors, 0],
  ];
  if (scenarios.has(3))
    out.push(
      table(
        `Scenario 3: cold start, ${cfg.coldCount} never-seen objects, one request at a time, one every ${cfg.coldGapMs} ms`,
        coldRows(t?.cold, w?.cold),
      ),
    );
  if (scenarios.has(4))
    out.push(
      "",
      table(
        `Scenario 4: cold-start storm, ${cfg.coldCount} never-seen objects, one request at a time, back to back`,
        coldRows(t?.coldStorm, w?.coldStorm),
      ),
    );
  if (scenarios.has(4))
    out.push(
      "  Terrarium starts a worker thread per object (~30 ms of CPU on this machine for Node alone) from a\n" +
        "  pool of pre-started ones; back to back, new objects arrive faster than the pool refills, so\n" +
        "  scenario 4 measures how fast threads start; scenario 3 measures a cold start.",
    );
  if (t?.live || w?.live) {
    out.push("");
    out.push(
      table(`Scenario 5: ${cfg.live} live objects (first request to each, ${LIVE_CONNECTIONS} at a time)`, [
        ["server RSS before (MiB)", mib(t?.live?.rssBeforeBytes), mib(w?.live?.rssBeforeBytes), 1],
        ["server RSS after (MiB)", mib(t?.live?.rssAfterBytes), mib(w?.live?.rssAfterBytes), 1],
        [
          "memory per live object (MiB)",
          mib(t?.live?.memoryPerObjectBytes),
          mib(w?.live?.memoryPerObjectBytes),
          2,
        ],
        ["server threads more after", threadsMore(t?.live), threadsMore(w?.live), 0],
        ["time to make them live (ms)", t?.live?.prime.elapsedMs, w?.live?.prime.elapsedMs, 0],
        ["median first request (ms)", t?.live?.prime.p50Ms, w?.live?.prime.p50Ms, 2],
        ["errors", t?.live?.prime.errors, w?.live?.prime.errors, 0],
      ]),
    );
    out.push(
      `  memory per live object = (server RSS after the first request to each object, once threads settle - RSS before) / ${cfg.live};\n` +
        `  Terrarium runs with ${liveArgs().join(" ")} so none goes Idle, lends its worker or hibernates meanwhile`,
    );
  }
  if (t?.touch || w?.touch) {
    out.push("");
    out.push(
      table(
        `Scenario 6: ${cfg.touch} distinct objects, each touched once in a uniformly random order, ${cfg.connections} connections`,
        [
          ["requests/s", t?.touch?.run.requestsPerSecond, w?.touch?.run.requestsPerSecond, 0],
          ["p50 latency (ms)", t?.touch?.run.p50Ms, w?.touch?.run.p50Ms, 2],
          ["p99 latency (ms)", t?.touch?.run.p99Ms, w?.touch?.run.p99Ms, 2],
          ["answered", t?.touch?.run.ok, w?.touch?.run.ok, 0],
          ["errors", t?.touch?.run.errors, w?.touch?.run.errors, 0],
          ["server RSS at the start (MiB)", mib(t?.touch?.rssStartBytes), mib(w?.touch?.rssStartBytes), 1],
          ["server RSS at the end (MiB)", mib(t?.touch?.rssEndBytes), mib(w?.touch?.rssEndBytes), 1],
          ["server RSS peak (MiB)", mib(t?.touch?.rssPeakBytes), mib(w?.touch?.rssPeakBytes), 1],
          ["server threads at the end", t?.touch?.threadsEnd, w?.touch?.threadsEnd, 0],
          ["server threads peak", t?.touch?.threadsPeak, w?.touch?.threadsPeak, 0],
        ],
      ),
    );
    if (t?.touch) out.push(`  Terrarium's default live cap on this machine: ${t.touch.liveCap} objects`);
  }
  out.push("");
  out.push(durability);
  if (t) {
    out.push("");
    out.push(
      "Where Terrarium's CPU goes (serve process threads, µs per request; thread names as the kernel sees them):",
    );
    for (const [name, m] of [
      ["scenario 1", t.hot],
      ["scenario 2", t.spread],
      ["scenario 3", t.cold],
      ["scenario 4", t.coldStorm],
    ] as const) {
      if (!m) continue;
      const main = m.threads.find((x) => x.main)?.cpuMicrosPerRequest ?? 0;
      const others = m.threads.filter((x) => !x.main);
      const top = others
        .slice(0, 4)
        .map((x) => `${x.comm}#${x.tid} ${fmt(x.cpuMicrosPerRequest, 0)}`)
        .join(", ");
      const rest = others.reduce((a, x) => a + x.cpuMicrosPerRequest, 0);
      out.push(
        `  ${name}: main thread ${fmt(main, 0)}, other threads ${fmt(rest, 0)} (${others.length} threads; busiest: ${top || "-"})`,
      );
    }
  }
  if (w?.hostCpuMicrosPerRequest !== undefined) {
    out.push(
      `workerd: the Miniflare host (Node) process used ${fmt(w.hostCpuMicrosPerRequest, 1)} µs/request in scenario 1 (not counted above).`,
    );
  }
  const checks: string[] = [];
  for (const [label, r] of [
    ["Terrarium", t],
    ["workerd", w],
  ] as const) {
    if (!r) continue;
    for (const [name, m] of [
      ["scenario 1", r.hot],
      ["scenario 2", r.spread],
      ["scenario 3", r.cold],
      ["scenario 4", r.coldStorm],
      ["scenario 5", r.live?.prime],
      ["scenario 6", r.touch?.run],
    ] as const) {
      if (!m) continue;
      if (m.countMismatches > 0)
        checks.push(
          `${label} ${name}: ${m.countMismatches} object(s) returned counts that do not match the requests they got`,
        );
      if (m.errors > 0) checks.push(`${label} ${name}: ${m.errors} errors, e.g. ${m.errorSamples[0] ?? "?"}`);
    }
    if (r.spread && r.spread.primeErrors > 0)
      checks.push(`${label} scenario 2 first touch: ${r.spread.primeErrors} errors`);
  }
  out.push(
    checks.length
      ? `Problems:\n${checks.map((c) => `  ${c}`).join("\n")}`
      : "Correctness: no errors, and every object's final count equals the 200 responses it gave.",
  );
  out.push("");
  out.push("Floors (informational; the bench exits 0 either way):");
  for (const f of floors(t, w))
    out.push(`  ${f.pass === null ? "N/A " : f.pass ? "PASS" : "FAIL"}  ${f.name}: ${f.detail}`);
  return out.join("\n");
}

// ---- main ----

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadStart = loadavg();
  process.stderr.write(
    `Terrarium vs workerd on bench/projects/counter — ${cpus().length} cores, load average ${loadStart.map((l) => l.toFixed(2)).join(" ")}\n`,
  );
  if (loadStart[0]! > cpus().length) {
    process.stderr.write(
      `  (the machine is busy: other work competes with both servers; compare ratios, not absolutes)\n`,
    );
  }
  load = new LoadClient(REPO_ROOT);
  const results: Record<string, ServerResults> = {};
  for (const side of sides) {
    if (interrupted) break;
    results[side] = await runServer(side);
  }
  await load.stop();
  load = null;
  if (interrupted) return;

  const loadEnd = loadavg();
  process.stderr.write(`\nload average at the end: ${loadEnd.map((l) => l.toFixed(2)).join(" ")}\n`);
  const durability = terrariumDurability();
  const t = results.terrarium;
  const w = results.workerd;
  const settings =
    (terrariumArgs.length > 0 ? `\nTerrarium ran with: ${terrariumArgs.join(" ")}` : "") +
    (terrariumRoot !== REPO_ROOT ? `\nTerrarium served from: ${terrariumRoot}` : "");
  process.stdout.write(`\n${report(t, w, durability.text)}${settings}\n`);

  const fl = floors(t, w);
  const json = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      totalMemBytes: totalmem(),
      loadavgStart: loadStart,
      loadavgEnd: loadEnd,
      node: process.version,
      clkTck: CLK_TCK,
    },
    config: { ...cfg, terrariumArgs, terrariumRoot },
    project: relative(REPO_ROOT, PROJECT_DIR),
    durability,
    terrarium: t ?? null,
    workerd: w ?? null,
    ratios: {
      hotRequestsPerSecond: ratio(t?.hot?.requestsPerSecond, w?.hot?.requestsPerSecond) ?? null,
      hotP50: ratio(t?.hot?.p50Ms, w?.hot?.p50Ms) ?? null,
      hotP99: ratio(t?.hot?.p99Ms, w?.hot?.p99Ms) ?? null,
      hotCpuPerRequest: ratio(t?.hot?.cpuMicrosPerRequest, w?.hot?.cpuMicrosPerRequest) ?? null,
      spreadRequestsPerSecond: ratio(t?.spread?.requestsPerSecond, w?.spread?.requestsPerSecond) ?? null,
      spreadP50: ratio(t?.spread?.p50Ms, w?.spread?.p50Ms) ?? null,
      spreadP99: ratio(t?.spread?.p99Ms, w?.spread?.p99Ms) ?? null,
      spreadCpuPerRequest: ratio(t?.spread?.cpuMicrosPerRequest, w?.spread?.cpuMicrosPerRequest) ?? null,
      memoryPerObject: ratio(t?.spread?.memoryPerObjectBytes, w?.spread?.memoryPerObjectBytes) ?? null,
      coldMedian: ratio(t?.cold?.p50Ms, w?.cold?.p50Ms) ?? null,
      coldP99: ratio(t?.cold?.p99Ms, w?.cold?.p99Ms) ?? null,
      coldStormMedian: ratio(t?.coldStorm?.p50Ms, w?.coldStorm?.p50Ms) ?? null,
      memoryPerLiveObject: ratio(t?.live?.memoryPerObjectBytes, w?.live?.memoryPerObjectBytes) ?? null,
    },
    floors: fl,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`\nResults written to ${relative(REPO_ROOT, file)}\n`);
}

main().then(
  async () => {
    await cleanup();
    process.exit(interrupted ? 130 : 0);
  },
  async (e: unknown) => {
    if (!interrupted)
      process.stderr.write(`\nbench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    await cleanup();
    process.exit(interrupted ? 130 : 1);
  },
);
