import { afterEach, describe, expect, it } from "vitest";
import { descendants, running } from "../helpers/processes.ts";
import { enginePid, figure, sandbox, startServe, until, type Sandbox, type Server } from "./harness.ts";

// The fault no in-process guard can stop (docs/reliability.md, "Isolation"):
// an object that, near its 128 MB heap limit, makes one allocation larger
// than the 16 MB leeway Node gives a worker there. V8 aborts the whole
// process. `terrarium serve` runs the engine under a supervisor, which
// restarts it on the same port and data folder: the well-behaved client
// sees a delay (its connections wait in the socket's backlog), every
// answered write is kept, the supervisor names the object, and the object's
// next request is refused once with the reason instead of crashing again.

let box: Sandbox | null = null;
let server: Server | null = null;

afterEach(async () => {
  await server?.kill9();
  server = null;
  box?.cleanup();
  box = null;
});

/** Any single answer, the restart included, on a busy machine. */
const ANSWER_BOUND_MS = 120_000;

describe("an allocation that aborts the engine process", () => {
  it("restarts the engine, keeps every answered write, and refuses the culprit once with the reason", async () => {
    box = sandbox("faults");
    server = await startServe(box, ["--quiet"]);
    const url = server.url;
    const firstEngine = enginePid(server.pid);
    expect(firstEngine).not.toBeNull();

    // The well-behaved client: one write after another, each a row; an answer of 200 is a promise kept.
    const answered: number[] = [];
    const failed: string[] = [];
    /** Answers other than 200, and requests sent once it served again that got none. */
    const wrong: string[] = [];
    let stop = false;
    let seq = 0;
    let answeredAfterRestart = 0;
    let restarted = false;
    const good = (async () => {
      while (!stop) {
        const n = ++seq;
        const sentAfterRestart = restarted;
        try {
          const r = await fetch(`${url}/rows/good/${n}`, { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
          const body = await r.text();
          if (r.status === 200) {
            answered.push(n);
            if (restarted) answeredAfterRestart++;
          } else wrong.push(`${r.status} ${body}`);
        } catch (e) {
          // A request in flight when the process died: its connection closes unanswered.
          (sentAfterRestart ? wrong : failed).push(String((e as Error).cause ?? e));
        }
      }
    })();
    await until(() => answered.length >= 20, "20 good writes before the fault");

    // The culprit: its connection ends with the process, unanswered (nothing could answer it).
    const culprit = await fetch(`${url}/hog-big/b`, { signal: AbortSignal.timeout(ANSWER_BOUND_MS) }).then(
      async (r) => `${r.status} ${await r.text()}`,
      (e: Error) => `no answer: ${String(e.cause ?? e)}`,
    );
    expect(culprit).toMatch(/^no answer/);

    await until(() => /serving again/.test(server!.output()), "the engine to serve again", ANSWER_BOUND_MS);
    restarted = true;
    const line = /terrarium: (Durable Object Bad "hog-big-b" .*)\n/.exec(server.output())?.[1];
    expect(line).toMatch(/ran out of memory: an allocation past its 128 MB heap limit/);
    expect(line).toMatch(/restarting it on the same port and data folder/);
    const again = Number(/serving again, (\d+) ms after/.exec(server.output())?.[1]);
    figure("time to serve again after the engine process aborted", `${again} ms`);

    // The supervisor and the port are the same; the engine process is a new one.
    expect(running(server.pid)).toBe(true);
    const secondEngine = enginePid(server.pid);
    expect(secondEngine).not.toBeNull();
    expect(secondEngine).not.toBe(firstEngine);

    await until(() => answeredAfterRestart >= 20, "20 good writes after the restart", ANSWER_BOUND_MS);

    // The culprit's next request: refused once, with the reason; the one after runs the object.
    const refused = await fetch(`${url}/hog-big/b`, { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
    const refusal = await refused.text();
    expect(refused.status).toBe(500);
    expect(refusal).toMatch(/Durable Object Bad [0-9a-f]{64} was reset: it ran out of memory/);
    expect(refusal).toContain("128 MB heap limit");
    const pong = await fetch(`${url}/ping/hog-big-b`, { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
    expect(pong.status).toBe(200);
    expect(await pong.json()).toBe("pong");

    stop = true;
    await good;
    figure(
      "well-behaved writes across the abort",
      `${answered.length} answered 200, ${failed.length} unanswered (in flight at the abort): ${failed.join("; ")}`,
    );
    // Only requests in flight while the process died go unanswered: the
    // client's own, and any its main thread still took in while a worker
    // thread was aborting it (how many depends on timing). None gets a wrong
    // answer, and none sent after it served again fails.
    expect(
      failed.every((f) => /ECONNRESET|socket|closed|terminated/i.test(f)),
      failed.join("; "),
    ).toBe(true);
    expect(wrong).toEqual([]);

    // Every answered write is there.
    const kept = (await (await fetch(`${url}/rows-seqs/good`)).json()) as number[];
    const lost = answered.filter((n) => !kept.includes(n));
    figure("answered writes lost", lost.length);
    expect(lost).toEqual([]);

    // Stopping is unchanged: SIGTERM, exit 0, nothing left behind.
    const family = [server.pid, ...descendants(server.pid)];
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    await until(() => family.every((p) => !running(p)), "the supervisor and the engine process to end");
    server = null;
  }, 300_000);
});
