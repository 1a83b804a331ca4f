import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { figure, sandbox, startServe, type Sandbox, type Server } from "./harness.ts";

// Isolation (docs/reliability.md, "Isolation"): a well-behaved object keeps
// serving while others spin, hog memory, fail in their constructor or fetch,
// or leave an unhandled rejection; the server never exits, and every bad
// caller gets an answer with a reason within the configured limits. The
// >= 90% throughput promise is checked by `npm run bench:isolation` (timing
// belongs in a bench on this shared machine); here only a loose floor.

let box: Sandbox | null = null;
let server: Server | null = null;

afterEach(async () => {
  await server?.kill9();
  server = null;
  box?.cleanup();
  box = null;
});

const CPU_LIMIT_MS = 500;
/** How long any answer may take here: the CPU limit, the memory hog's run to its limit, and a busy machine. */
const ANSWER_BOUND_MS = 15_000;

async function timed(url: string): Promise<{ status: number; body: string; ms: number }> {
  const t = performance.now();
  const r = await fetch(url, { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
  const body = await r.text();
  return { status: r.status, body, ms: performance.now() - t };
}

/** Good requests answered so far: the bad callers pace themselves on it. */
let goodDone = 0;

/** The well-behaved object's throughput: `count` requests from 4 clients, in requests per second. */
async function goodThroughput(url: string, count: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < count) {
        next++;
        const r = await fetch(`${url}/good/g`, { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
        goodDone++;
      }
    }),
  );
  return count / ((performance.now() - t) / 1000);
}

interface Misbehaviour {
  path: string;
  status: number;
  message: RegExp;
}

const BAD: Record<string, Misbehaviour> = {
  spins: { path: "/spin/s", status: 500, message: /exceeded its CPU time limit of 500 ms/ },
  // Stopped by whichever limit it reaches first: with a 500 ms CPU limit, often the CPU one
  // (V8 collects garbage hard near the heap limit). The memory limit has a test of its own.
  "allocates without bound": { path: "/hog/h", status: 500, message: /(memory|CPU time) limit/ },
  "throws in its constructor": { path: "/ctor/c", status: 500, message: /constructor failed on purpose/ },
  "throws in fetch": { path: "/fail/f", status: 500, message: /fetch failed on purpose/ },
  "leaves an unhandled rejection": { path: "/reject/r", status: 200, message: /left a rejection/ },
};

describe("isolation", () => {
  it("keeps a well-behaved object serving while five others misbehave, and answers each of them", async () => {
    box = sandbox("faults");
    server = await startServe(box, ["--quiet", "--cpu-limit", String(CPU_LIMIT_MS)]);
    const url = server.url;
    await goodThroughput(url, 100); // warm: worker started, code compiled
    const alone = await goodThroughput(url, 400);

    const seen: Record<string, { n: number; maxMs: number; wrong: string[] }> = {};
    /**
     * The good object's throughput while the given bad callers misbehave: each
     * again once 20 good requests have been answered since its last answer
     * (so each is about 5% of the traffic), and at least once.
     */
    const beside = async (which: string[]): Promise<number> => {
      let stop = false;
      const loops = which.map(async (what) => {
        const m = BAD[what]!;
        const s = (seen[what] ??= { n: 0, maxMs: 0, wrong: [] });
        const n0 = s.n;
        while (!stop || s.n === n0) {
          const after = goodDone + 20;
          while (goodDone < after && !stop) await new Promise((r) => setTimeout(r, 5));
          const r = await timed(`${url}${m.path}`);
          s.n++;
          s.maxMs = Math.max(s.maxMs, r.ms);
          if (r.status !== m.status || !m.message.test(r.body)) s.wrong.push(`${r.status} ${r.body.trim()}`);
        }
      });
      const rps = await goodThroughput(url, 400);
      stop = true;
      await Promise.all(loops);
      return rps;
    };
    // The misbehaviours that do not burn a core: the good object keeps most of its throughput.
    const cheap = await beside([
      "throws in its constructor",
      "throws in fetch",
      "leaves an unhandled rejection",
    ]);
    // All five: the spinning and the allocating objects each take a core (of two here) until stopped.
    const all = await beside(Object.keys(BAD));

    figure("isolation: good object alone (req/s)", Math.round(alone));
    figure("isolation: beside the constructor, fetch and rejection failures (req/s, ratio)", [
      Math.round(cheap),
      +(cheap / alone).toFixed(2),
    ]);
    figure("isolation: beside all five (req/s, ratio)", [Math.round(all), +(all / alone).toFixed(2)]);
    figure("isolation: bad callers (answers, slowest ms)", seen);

    for (const [what, s] of Object.entries(seen)) {
      expect(s.wrong, `the object that ${what}`).toEqual([]);
      expect(s.maxMs, `the object that ${what} answered within the bound`).toBeLessThan(ANSWER_BOUND_MS);
    }
    expect(cheap / alone).toBeGreaterThanOrEqual(0.5);
    // Never starved: a lock shared with a spinning object would leave it next to nothing.
    expect(all / alone).toBeGreaterThanOrEqual(0.1);
    // The objects that were stopped serve their next request; the one that left a rejection lived on.
    expect((await timed(`${url}/ping/spin-s`)).body).toBe('"pong"');
    expect((await timed(`${url}/ping/hog-h`)).body).toBe('"pong"');
    expect((await timed(`${url}/ping/reject-r`)).body).toBe('"pong"');
    expect(server.child.exitCode).toBeNull();
    expect(server.child.signalCode).toBeNull();
  }, 180_000);

  // TODO(isolation): an object that allocates in single chunks larger than 16 MB
  // past its heap limit (GET /hog-big/...) aborts the whole process: see
  // docs/reliability.md, "Known limits". `npm run bench:isolation` shows it last.
  it("stops an object at its memory limit, and the server and the object live on", async () => {
    box = sandbox("faults");
    server = await startServe(box, ["--quiet"]);
    const r = await timed(`${server.url}/hog/m`);
    figure("memory hog stopped after (ms)", Math.round(r.ms));
    expect(r.status).toBe(500);
    expect(r.body).toMatch(/was reset: .*memory limit/);
    expect((await timed(`${server.url}/good/g`)).status).toBe(200);
    expect((await timed(`${server.url}/ping/hog-m`)).body).toBe('"pong"');
    expect(server.child.exitCode).toBeNull();
  }, 60_000);

  // NOTE: depends on the `surface` branch: today a Worker module that throws
  // while it loads ends the whole serve process.
  it("answers with the load error when the Worker module throws at load, and keeps running", async () => {
    box = sandbox("faults");
    appendFileSync(join(box.dir, "src", "index.ts"), '\nthrow new Error("module failed on purpose");\n');
    server = await startServe(box, ["--quiet"]).catch((e: unknown) => {
      throw new Error(`serve did not survive a module that throws at load: ${String(e)}`);
    });
    const r = await timed(`${server.url}/good/g`);
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(r.body).toContain("module failed on purpose");
    expect((await timed(`${server.url}/good/g`)).body).toContain("module failed on purpose");
    expect(server.child.exitCode).toBeNull();
  }, 60_000);
});
