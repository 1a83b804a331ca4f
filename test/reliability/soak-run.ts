import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { RunSummary } from "../../runtime/load/summary.ts";
import { enginePid, fdCount, rssMb, runCli, sandbox, startServe, threadCount, until } from "./harness.ts";

/**
 * The soak of docs/reliability.md, "Load held", shared by the test (30 s)
 * and `npm run bench:soak` (5 minutes): `terrarium serve` with short idle
 * and hibernation timeouts, and `terrarium load --url` sending up to a steady
 * rate over 1,000 objects, so that objects keep hibernating and waking.
 *
 * The load is a closed model: SOAK_CLIENTS (20) virtual clients, each sending its
 * next request a think time after its answer, so at most `rate` requests a
 * second and never more than the machine answers. An open model (a fixed
 * rate whatever the answers do) is the wrong client for a soak on a shared
 * machine: when CPU starvation holds the engine below the rate, the
 * requests it cannot take yet queue in the generator (behind its 64
 * connections) without bound, their latency grows through the run, and the
 * run's end gives up on those still queued ("unfinished"), though the engine
 * answered every request it received within seconds (docs/reliability.md,
 * "Load held", measured both ways).
 *
 * The serve process is measured from /proc when every object has
 * hibernated: after a warm-up run, after the first half of the soak and
 * after the second. Idle workers are kept for reuse (up to 32), so the first
 * half may still grow the pool; a leak is growth that goes on from the first
 * half to the second.
 */

export interface SoakFigures {
  durationS: number;
  rate: number;
  objects: number;
  sent: number;
  completed: number;
  errors: number;
  errorRate: number;
  /** Failures by kind, as terrarium load counts them. */
  errorKinds: Record<string, number>;
  statuses: Record<string, number>;
  p99Ms: number;
  /** Objects that were ever created, and how many times objects started in all (the hibernation cycles). */
  objectsSeen: number;
  activations: number;
  start: Measure;
  half: Measure;
  end: Measure;
}

export interface Measure {
  rssMb: number;
  fds: number;
  threads: number;
}

export interface SoakOptions {
  durationS: number;
  rate: number;
  objects: number;
  warmupS: number;
  log?: (line: string) => void;
}

function registryStates(dataDir: string): { live: number; objects: number; activations: number } {
  const path = join(dataDir, "registry.sqlite");
  if (!existsSync(path)) return { live: 0, objects: 0, activations: 0 };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const live = (
      db.prepare("SELECT COUNT(*) AS n FROM objects WHERE state NOT IN ('Hibernating', 'Created')").get() as {
        n: number;
      }
    ).n;
    const objects = (db.prepare("SELECT COUNT(*) AS n FROM objects").get() as { n: number }).n;
    const activations = (
      db
        .prepare(
          "SELECT COUNT(*) AS n FROM transitions WHERE to_state = 'Active' AND from_state = 'Initializing'",
        )
        .get() as {
        n: number;
      }
    ).n;
    return { live, objects, activations };
  } finally {
    db.close();
  }
}

/** Virtual clients of the soak's closed model: each waits for its answer, so the server sees at most this many at once. */
export const SOAK_CLIENTS = 20;

async function load(url: string, dir: string, o: { rate: number; durationS: number; objects: number }) {
  const r = await runCli(
    [
      "load",
      dir,
      "--url",
      url,
      "--clients",
      String(SOAK_CLIENTS),
      // Each client's think time so that the clients together send at most `rate` a second.
      "--think",
      `${Math.round((SOAK_CLIENTS / o.rate) * 1000)}ms`,
      "--duration",
      `${o.durationS}s`,
      "--path",
      "/good/{key}",
      "--keys",
      `uniform:${o.objects}`,
      "--json",
      "--quiet",
    ],
    (o.durationS + 120) * 1000,
  );
  if (r.timedOut || r.code !== 0) throw new Error(`terrarium load ended with ${r.code}:\n${r.output}`);
  return JSON.parse(r.output.slice(r.output.indexOf("{"))) as RunSummary;
}

function sum(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * What the pool of idle workers (MAX_IDLE_WORKERS, 32, in lifecycle.ts) may
 * hold on top of the start, whatever the number of hibernation cycles: each
 * worker thread is an OS thread (plus a share of V8's), ~7 descriptors (its
 * event loop's epoll and eventfds, its message ports) and ~15 MB resident
 * (measured here: +32 threads, +158 descriptors, +418 MB for a full pool).
 */
export const POOL_ALLOWANCE = { threads: 32 * 2, fds: 32 * 8, rssMb: 32 * 20 };

export async function soak(o: SoakOptions): Promise<SoakFigures> {
  const log = o.log ?? (() => undefined);
  const box = sandbox("faults");
  const server = await startServe(box, ["--quiet", "--idle-after", "200", "--hibernate-after", "300"]);
  try {
    // The engine's process, not its supervisor's: the objects' workers are there
    // (the serve process itself when it runs unsupervised: TERRARIUM_NO_SUPERVISOR=1).
    const engine = enginePid(server.pid) ?? server.pid;
    const settled = async (what: string): Promise<Measure> => {
      await until(() => registryStates(box.dataDir).live === 0, `every object to hibernate ${what}`, 60_000);
      return {
        rssMb: Math.round(rssMb(engine)),
        fds: fdCount(engine),
        threads: threadCount(engine),
      };
    };
    log(`warm-up: ${o.warmupS} s at ${o.rate} req/s over ${o.objects} objects`);
    await load(server.url, box.dir, { rate: o.rate, durationS: o.warmupS, objects: o.objects });
    const start = await settled("after the warm-up");
    const before = registryStates(box.dataDir).activations;
    log(`soak: ${o.durationS} s at ${o.rate} req/s; serve at start ${JSON.stringify(start)}`);
    const half = o.durationS / 2;
    const a = await load(server.url, box.dir, { rate: o.rate, durationS: half, objects: o.objects });
    const mid = await settled("after the first half");
    log(`half-way: ${JSON.stringify(mid)}`);
    const b = await load(server.url, box.dir, { rate: o.rate, durationS: half, objects: o.objects });
    const end = await settled("after the soak");
    const reg = registryStates(box.dataDir);
    if (server.child.exitCode !== null) throw new Error(`serve exited: ${server.output()}`);
    return {
      durationS: o.durationS,
      rate: o.rate,
      objects: o.objects,
      sent: a.requests.sent + b.requests.sent,
      completed: a.requests.completed + b.requests.completed,
      errors: [a, b].reduce(
        (n, s) => n + Math.round(s.errorRate * (s.requests.sent + s.requests.dropped)),
        0,
      ),
      errorRate: Math.max(a.errorRate, b.errorRate),
      errorKinds: sum(a.errors as Record<string, number>, b.errors as Record<string, number>),
      statuses: sum(a.statuses, b.statuses),
      p99Ms: Math.max(a.latencyMs.p99, b.latencyMs.p99),
      objectsSeen: reg.objects,
      activations: reg.activations - before,
      start,
      half: mid,
      end,
    };
  } finally {
    await server.kill9();
    box.cleanup();
  }
}
