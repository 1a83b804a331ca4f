import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import type { RunSummary } from "../../runtime/load/summary.ts";
import { descendants, running } from "../helpers/processes.ts";
import { tiedToTest } from "../helpers/tied.ts";
import { BIN, enginePid, figure, sandbox, startServe, until, type Sandbox, type Server } from "./harness.ts";

// `terrarium load` serving the project itself, under the supervisor
// (docs/reliability.md, "An allocation that aborts the process"): the same
// fault as supervisor.test.ts while a run goes on. The run is in the
// supervisor's process and the engine in its own: the engine restarts on
// the same port, the run goes on and ends with its summary, the objects'
// figures included, and every write it saw answered is kept.

let box: Sandbox | null = null;
let pids: number[] = [];
let server: Server | null = null;

afterEach(async () => {
  await server?.kill9();
  server = null;
  for (const p of pids) if (running(p)) process.kill(p, "SIGKILL");
  pids = [];
  box?.cleanup();
  box = null;
});

/** Any single answer, the restart included, on a busy machine. */
const ANSWER_BOUND_MS = 120_000;

async function seqs(url: string): Promise<number[]> {
  const r = await fetch(`${url}/rows-seqs/good`, { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
  return (await r.json()) as number[];
}

describe("terrarium load: an allocation that aborts the engine process", () => {
  it("restarts the engine under the run, which goes on and keeps every answered write", async () => {
    box = sandbox("faults");
    const tied = tiedToTest([
      "load",
      box.dir,
      "--data",
      box.dataDir,
      "--rate",
      "20",
      "--duration",
      "10m",
      "--path",
      "/rows/good/{seq}",
      "--json",
    ]);
    const child = spawn(process.execPath, [BIN, ...tied.args], { stdio: [tied.stdin, "pipe", "pipe"] });
    pids.push(child.pid!);
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | string>((r) =>
      child.once("exit", (code, signal) => r(code ?? signal ?? "unknown")),
    );

    await until(() => /load ad hoc -> http:\/\/127\.0\.0\.1:\d+/.test(err), "the run to start", 60_000);
    const url = /load ad hoc -> (http:\/\/127\.0\.0\.1:\d+)/.exec(err)![1]!;
    const firstEngine = enginePid(child.pid!);
    expect(firstEngine).not.toBeNull();
    pids.push(firstEngine!);
    await until(async () => (await seqs(url)).length >= 20, "20 writes of the run", ANSWER_BOUND_MS);

    // The culprit, sent beside the run: its connection ends with the engine's process.
    const culprit = await fetch(`${url}/hog-big/b`, { signal: AbortSignal.timeout(ANSWER_BOUND_MS) }).then(
      (r) => `answered ${r.status}`,
      (e: Error) => `no answer: ${String(e.cause ?? e)}`,
    );
    expect(culprit).toMatch(/^no answer/);
    await until(() => /serving again/.test(err), "the engine to serve again", ANSWER_BOUND_MS);
    expect(err).toMatch(/terrarium: Durable Object Bad "hog-big-b" .* ran out of memory/);
    figure("load: time to serve again", /serving again, (\d+) ms after/.exec(err)?.[1] ?? "?");
    const secondEngine = enginePid(child.pid!);
    expect(secondEngine).not.toBeNull();
    expect(secondEngine).not.toBe(firstEngine);
    pids.push(secondEngine!);

    // The culprit's next request is refused once with the reason; the run goes on meanwhile.
    const refused = await fetch(`${url}/hog-big/b`, { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
    expect(refused.status).toBe(500);
    expect(await refused.text()).toMatch(/Durable Object Bad [0-9a-f]{64} was reset: it ran out of memory/);
    const after = (await seqs(url)).length;
    await until(
      async () => (await seqs(url)).length >= after + 20,
      "20 more writes of the run",
      ANSWER_BOUND_MS,
    );

    // The first signal ends the run with its summary (130: ended early), and the engine with it.
    const family = [child.pid!, ...descendants(child.pid!)];
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    await until(() => family.every((p) => !running(p)), "the run's processes to end");
    const summary = JSON.parse(out.slice(out.indexOf("{"))) as RunSummary;
    figure("load across the abort", {
      sent: summary.requests.sent,
      answered: summary.statuses["200"] ?? 0,
      errors: summary.errors,
    });
    // Only requests in flight while the engine's process died go unanswered (their connections
    // reset), and those in flight at the stop may get its 503: nothing else fails.
    const other = Object.keys(summary.errors).filter((k) => !["reset", "unfinished", "http_5xx"].includes(k));
    expect(other, JSON.stringify(summary.errors)).toEqual([]);
    expect(Object.keys(summary.statuses).filter((s) => s !== "200" && s !== "503")).toEqual([]);
    expect(summary.statuses["200"]).toBeGreaterThanOrEqual(40);
    // The objects' side of the summary came from the engine's process.
    expect(summary.objects?.hottest.length).toBeGreaterThan(0);

    // Every write the run saw answered is on disk: serve the same data folder and count them.
    server = await startServe(box, ["--quiet"]);
    const kept = await seqs(server.url);
    expect(kept.length).toBeGreaterThanOrEqual(summary.statuses["200"]!);
  }, 300_000);
});
