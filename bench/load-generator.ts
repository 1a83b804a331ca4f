/**
 * `npm run bench:load`: how hard Terrarium's load generator can drive on
 * its own. A trivial HTTP server (a process of its own, answering "ok")
 * takes an open-model run from the real generator process (the one
 * `terrarium load` uses); after a warm-up ramp, each second's answered
 * requests, latency (from due time) and the CPU of both processes are
 * measured. PASS when the generator holds the target rate with no backlog
 * and no errors. Linux only (CPU is read from /proc).
 *
 * Flags: --rate N (default 5000), --duration S (measured, default 8),
 * --warmup S (ramp, default 3), --connections N (default 64).
 */
import { fork } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { parseLoadProfile } from "../runtime/config/terrarium.ts";
import { GeneratorProcess } from "../runtime/load/client.ts";
import type { GeneratorTick } from "../runtime/load/generator.ts";
import { Histogram } from "../runtime/load/histogram.ts";
import { planLoad } from "../runtime/load/profile.ts";
import { cpuMicros } from "./lib/proc.ts";

if (process.platform !== "linux") {
  process.stderr.write("bench:load: needs Linux (CPU is read from /proc)\n");
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "5000" },
    duration: { type: "string", default: "8" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "64" },
  },
});
const rate = Number(values.rate);
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const connections = Number(values.connections);
if (![rate, durationS, warmupS, connections].every((n) => Number.isFinite(n) && n > 0)) {
  process.stderr.write("bench:load: --rate, --duration, --warmup and --connections take positive numbers\n");
  process.exit(2);
}

// The server: node:http answering every request with "ok", in its own process.
const SERVER = `
const s = require("node:http").createServer((req, res) => { req.resume(); req.on("end", () => res.end("ok")); });
s.keepAliveTimeout = 10000;
s.listen(0, "127.0.0.1", () => process.send(s.address().port));
process.on("disconnect", () => process.exit(0));
`;

async function main(): Promise<void> {
  const server = fork("-e", [SERVER], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const killServer = (): void => {
    if (server.exitCode === null) server.kill("SIGKILL");
  };
  process.on("exit", killServer);
  const port = await new Promise<number>((resolve) => server.once("message", (p) => resolve(p as number)));
  const url = `http://127.0.0.1:${port}`;

  const profile = parseLoadProfile({
    stages: [
      { duration: `${warmupS}s`, target: rate },
      { duration: `${durationS}s`, target: rate },
    ],
    connections,
    requests: [{ method: "POST", path: "/c/{key}/incr", body: '{"by": 1}' }],
    keys: "zipf:1000",
  });
  const plan = planLoad("bench", profile, url);
  const generator = await GeneratorProcess.start();
  const pids = { generator: generator.pid!, server: server.pid! };
  const load0 = loadavg()[0]!;
  process.stderr.write(
    `bench:load: open model, ramp to ${rate} req/s over ${warmupS}s, then ${durationS}s measured; ` +
      `${connections} connections; ${cpus().length} cores, load average ${load0.toFixed(2)}\n`,
  );

  const steady: { tick: GeneratorTick; genCpu: number; srvCpu: number }[] = [];
  let last = { gen: cpuMicros([pids.generator]), srv: cpuMicros([pids.server]) };
  const result = await generator.run(plan, (tick) => {
    const now = { gen: cpuMicros([pids.generator]), srv: cpuMicros([pids.server]) };
    const genCpu = now.gen - last.gen;
    const srvCpu = now.srv - last.srv;
    last = now;
    const inSteady = tick.second > warmupS && tick.second <= warmupS + durationS && tick.windowMs > 900;
    if (inSteady) steady.push({ tick, genCpu, srvCpu });
    const h = Histogram.fromJSON(tick.latency);
    process.stderr.write(
      `  ${String(tick.second).padStart(3)}s ${inSteady ? "measured" : "warm-up "} ` +
        `${String(tick.completed).padStart(6)} answered  p50 ${(h.percentile(50) / 1000).toFixed(2)} ms  ` +
        `p99 ${(h.percentile(99) / 1000).toFixed(2)} ms  generator ${(genCpu / 1000 / tick.windowMs).toFixed(2)} cores\n`,
    );
  });
  await generator.close();
  killServer();

  const ms = steady.reduce((n, s) => n + s.tick.windowMs, 0);
  const answered = steady.reduce((n, s) => n + s.tick.completed, 0);
  const sent = steady.reduce((n, s) => n + s.tick.sent, 0);
  const errors = steady.reduce((n, s) => n + Object.values(s.tick.errors).reduce((a, b) => a + b, 0), 0);
  const genCpu = steady.reduce((n, s) => n + s.genCpu, 0);
  const srvCpu = steady.reduce((n, s) => n + s.srvCpu, 0);
  const h = new Histogram();
  for (const s of steady) h.merge(Histogram.fromJSON(s.tick.latency));
  const rps = (answered / ms) * 1000;
  const ok = steady.length > 0 && rps >= rate * 0.98 && errors === 0 && (result.errors.backlog ?? 0) === 0;
  const out = {
    targetRate: rate,
    measuredSeconds: Math.round(ms / 100) / 10,
    answeredPerSecond: Math.round(rps),
    sentPerSecond: Math.round((sent / ms) * 1000),
    errors,
    backlog: result.errors.backlog ?? 0,
    latencyMs: {
      p50: h.percentile(50) / 1000,
      p99: h.percentile(99) / 1000,
      "p99.9": h.percentile(99.9) / 1000,
      max: h.max / 1000,
    },
    generator: {
      coresBusy: Math.round((genCpu / 1000 / ms) * 100) / 100,
      cpuMicrosPerRequest: Math.round(genCpu / Math.max(1, answered)),
      maxStartLagMs: Math.round(result.maxLagMs * 10) / 10,
    },
    server: {
      coresBusy: Math.round((srvCpu / 1000 / ms) * 100) / 100,
      cpuMicrosPerRequest: Math.round(srvCpu / Math.max(1, answered)),
    },
    machine: { cores: cpus().length, loadAverageStart: load0, loadAverageEnd: loadavg()[0] },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(
    `${ok ? "PASS" : "FAIL"}: the generator answered ${out.answeredPerSecond} req/s of ${rate} targeted ` +
      `(${errors} errors, ${out.backlog} never sent), using ${out.generator.coresBusy} cores ` +
      `(${out.generator.cpuMicrosPerRequest} µs of CPU per request); the server used ${out.server.coresBusy} cores\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:load: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
