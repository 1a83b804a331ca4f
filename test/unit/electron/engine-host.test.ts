import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LiveEvent } from "../../../runtime/api/contract.ts";
import { EngineHost } from "../../../electron/engine-host.ts";
import { running } from "../../helpers/processes.ts";
import { FIXTURES, until } from "../../helpers/project.ts";
import { forkUtility } from "../../helpers/utility-process.ts";

// The desktop app's engine in a utility process (electron/engine-host.ts):
// Electron's `utilityProcess.fork` is stood in for by a real Node child
// process (test/helpers/utility-process.ts) that runs the real
// electron/engine-process.ts and the real engine on the faults project.

const REPO = resolve(import.meta.dirname, "..", "..", "..");
const ENGINE_PROCESS = join(REPO, "electron", "engine-process.ts");
/** Any single answer, a restart included, on a busy machine. */
const ANSWER_BOUND_MS = 120_000;

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function faultsProject(): string {
  const root = mkdtempSync(join(tmpdir(), "terrarium-host-"));
  cpSync(join(FIXTURES, "faults"), join(root, "project"), { recursive: true });
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return join(root, "project");
}

function host(log: string[]): { host: EngineHost; pids: number[] } {
  const pids: number[] = [];
  const h = new EngineHost({
    fork: () => {
      const child = forkUtility(ENGINE_PROCESS);
      if (child.pid) pids.push(child.pid);
      return child;
    },
    appRoot: REPO,
    port: 0,
    log: (l) => log.push(l),
  });
  cleanups.push(async () => {
    await h.stop(0);
    for (const p of pids) if (running(p)) process.kill(p, "SIGKILL");
  });
  return { host: h, pids };
}

describe("the desktop app's engine in a utility process", () => {
  it("forwards the control API and its live stream, restarts the engine after an abort, and stops", async () => {
    const dir = faultsProject();
    const log: string[] = [];
    const { host: h, pids } = host(log);
    const info = await h.open(dir);
    expect(info.projectDir).toBe(dir);
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const first = h.pid!;
    expect(first).not.toBe(process.pid);

    // The control API, called in main, runs in the engine's process.
    const events: LiveEvent[] = [];
    const off = h.api.subscribe((batch) => events.push(...batch));
    const write = await h.api.sendRequest({ method: "GET", path: "/rows/good/1" });
    expect(write.status).toBe(200);
    await until(
      () => events.some((e) => e.type === "request"),
      "a request event on the live stream",
      ANSWER_BOUND_MS,
    );
    // The router listens in the engine's process too.
    expect((await fetch(`${info.url}/rows/good/2`)).status).toBe(200);

    // The culprit's call is in flight when the engine's process aborts: it fails with the reason.
    const culprit = await h.api.sendRequest({ method: "GET", path: "/hog-big/b" }).then(
      (r) => `answered ${r.status}`,
      (e: Error) => e.message,
    );
    expect(culprit).toMatch(/Durable Object Bad "hog-big-b" .* ran out of memory/);
    expect(culprit).toMatch(/restarting it on the same project and data folder/);

    // A call made during the restart waits for the new engine, on the same api object.
    const during = h.api.sendRequest({ method: "GET", path: "/rows/good/3" });
    expect((await during).status).toBe(200);
    const again = log.find((l) => /serving again, \d+ ms after the engine process ended/.test(l));
    expect(again).toBeDefined();
    console.log(`[measured] desktop engine restarted: ${again}`);
    expect(h.crashes).toBe(1);
    const second = h.pid!;
    expect(second).not.toBe(first);
    expect(running(first)).toBe(false);
    // The same port: the window's CSP still names it.
    expect(h.info!.url).toBe(info.url);

    // Every answered write is there.
    const seqs = await h.api.sendRequest({ method: "GET", path: "/rows-seqs/good" });
    expect((JSON.parse(seqs.body) as number[]).sort((a, b) => a - b)).toEqual([1, 2, 3]);

    // The culprit's next request is refused once with the reason; the one after runs it.
    const refused = await h.api.sendRequest({ method: "GET", path: "/hog-big/b" });
    expect(refused.status).toBe(500);
    expect(refused.body).toMatch(/Durable Object Bad [0-9a-f]{64} was reset: it ran out of memory/);
    expect((await h.api.sendRequest({ method: "GET", path: "/ping/hog-big-b" })).status).toBe(200);

    // The live stream was asked for again from the new engine.
    const seen = events.length;
    await h.api.sendRequest({ method: "GET", path: "/rows/good/4" });
    await until(() => events.length > seen, "live events from the new engine", ANSWER_BOUND_MS);
    off();

    // Stopping ends the engine's process; later calls fail, saying why.
    expect(await h.stop(1_000)).toBeNull();
    await until(() => pids.every((p) => !running(p)), "every engine process to end");
    await expect(h.api.listObjects()).rejects.toThrow(/the project was closed/);
  }, 300_000);

  it("rejects with the engine's message when the project cannot be opened, and leaves no process", async () => {
    const dir = faultsProject();
    writeFileSync(join(dir, "wrangler.jsonc"), "{ this is not jsonc");
    const log: string[] = [];
    const { host: h, pids } = host(log);
    await expect(h.open(dir)).rejects.toThrow(/wrangler\.jsonc/);
    await until(() => pids.every((p) => !running(p)), "the engine process to end");
    expect(h.crashes).toBe(0);
    await expect(h.api.listObjects()).rejects.toThrow(/wrangler\.jsonc/);
  }, 120_000);
});
