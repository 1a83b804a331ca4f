/**
 * The load generator: a process of its own (forked by bench/run.ts), so it
 * never shares a thread with a server. It runs one job at a time on request
 * over IPC and answers with counts and a latency histogram.
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { Histogram } from "../runtime/load/histogram.ts";
import type { LoadJob, LoadMessage, LoadReply, LoadResult } from "./lib/protocol.ts";

const REQUEST_TIMEOUT_MS = 15_000;

/** Per server and object name: 200 responses so far and the highest value returned. */
const seen = new Map<string, { ok: number; max: number }>();

interface Outcome {
  ok: boolean;
  latencyMicros: number;
  error?: string;
}

function get(agent: Agent, base: URL, name: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Outcome> {
  return new Promise((resolve) => {
    const start = performance.now();
    let settled = false;
    const done = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      resolve(o);
    };
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: "GET",
        path: `/c/${encodeURIComponent(name)}`,
        timeout: timeoutMs,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => {
          const latencyMicros = (performance.now() - start) * 1000;
          if (res.statusCode !== 200) {
            done({ ok: false, latencyMicros, error: `HTTP ${res.statusCode}: ${body.slice(0, 200).trim()}` });
            return;
          }
          const key = `${base.origin} ${name}`;
          const s = seen.get(key) ?? { ok: 0, max: 0 };
          s.ok++;
          const v = Number(body);
          if (Number.isFinite(v) && v > s.max) s.max = v;
          seen.set(key, s);
          done({ ok: true, latencyMicros });
        });
        res.on("error", (e) => done({ ok: false, latencyMicros: 0, error: e.message }));
      },
    );
    req.on("timeout", () => {
      req.destroy(new Error(`timed out after ${timeoutMs} ms`));
    });
    req.on("error", (e) => done({ ok: false, latencyMicros: 0, error: e.message }));
    req.end();
  });
}

async function runJob(job: LoadJob): Promise<LoadResult> {
  const base = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections, maxFreeSockets: job.connections });
  const hist = new Histogram();
  let ok = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const touched = new Set<string>();
  const record = (name: string, o: Outcome): void => {
    touched.add(name);
    if (o.ok) {
      ok++;
      hist.record(o.latencyMicros);
    } else {
      errors++;
      if (errorSamples.length < 5 && o.error) errorSamples.push(o.error);
    }
  };

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    if (job.kind === "duration") {
      const end = t0 + job.durationMs;
      const names = job.names;
      const loop = async (): Promise<void> => {
        while (performance.now() < end) {
          const name = names[Math.floor(Math.random() * names.length)]!;
          const o = await get(agent, base, name);
          record(name, o);
          // A server that refuses connections must not turn this into a busy loop.
          if (!o.ok) await new Promise((r) => setTimeout(r, 5));
        }
      };
      await Promise.all(Array.from({ length: job.connections }, loop));
    } else {
      let next = 0;
      const names = job.names;
      const loop = async (): Promise<void> => {
        while (next < names.length) {
          const name = names[next++]!;
          record(name, await get(agent, base, name, job.timeoutMs));
          if (job.gapMs && next < names.length) await new Promise((r) => setTimeout(r, job.gapMs));
        }
      };
      await Promise.all(Array.from({ length: Math.min(job.connections, names.length) }, loop));
    }
  } finally {
    agent.destroy();
  }
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);

  let countMismatches = 0;
  for (const name of touched) {
    const s = seen.get(`${base.origin} ${name}`);
    if (s && s.max !== s.ok) countMismatches++;
  }
  return {
    ok,
    errors,
    errorSamples,
    elapsedMs,
    latency: hist.toJSON(),
    loadgenCpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
    countMismatches,
  };
}

function reply(msg: LoadReply): void {
  process.send?.(msg);
}

process.on("message", (raw: unknown) => {
  const msg = raw as LoadMessage;
  if (msg?.type !== "job") return;
  runJob(msg.job).then(
    (result) => reply({ type: "result", id: msg.id, result }),
    (e: unknown) =>
      reply({ type: "failed", id: msg.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});

// The parent went away: nothing left to do.
process.on("disconnect", () => process.exit(0));
