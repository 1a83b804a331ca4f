import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startCli, type Exit, type Started } from "../helpers/cli.ts";
import { descendants, running } from "../helpers/processes.ts";
import { until } from "../helpers/project.ts";
import { marked, stuckProject } from "../helpers/stuck-project.ts";

// Stopping is bounded (issue 20): the real CLI as a child process, objects
// that never answer, a signal, and what is left afterwards. Timings are
// only checked against the grace period plus a generous margin: the machine
// is shared, and a stop that hangs misses that by minutes, not milliseconds.

const BIN = resolve(import.meta.dirname, "..", "..", "bin", "terrarium.js");
const MARGIN_MS = 10_000;

let project: ReturnType<typeof stuckProject> | null = null;
const children: Started[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill("SIGKILL");
  project?.cleanup();
  project = null;
});

async function serve(extra: string[] = [], opts: Parameters<typeof startCli>[1] = {}): Promise<Started> {
  const p = project!;
  const s = await startCli(["serve", p.dir, "--port", "0", "--data", p.dataDir, "--quiet", ...extra], opts);
  children.push(s);
  return s;
}

async function write(url: string, name: string, v: string): Promise<void> {
  const r = await fetch(`${url}/store/${name}/write?v=${v}`, { method: "POST" });
  expect(r.status).toBe(200);
  expect(await r.json()).toEqual({ stored: v });
}

/** Sends `signal` and waits for the exit; the time from the signal to the exit event. */
async function signal(s: Started, sig: NodeJS.Signals): Promise<Exit & { ms: number }> {
  const t0 = performance.now();
  s.child.kill(sig);
  const exit = await s.exited;
  return { ...exit, ms: exit.at - t0 };
}

/** The process is gone, and so is every process it had started (esbuild's service, load's generator). */
async function expectNothingLeft(pid: number, family: number[]): Promise<void> {
  expect(running(pid)).toBe(false);
  await until(() => family.every((p) => !running(p)), "every process of the family to end");
}

/** SQLite files left with a write-ahead log: a database that was not closed. */
function unclosedDatabases(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith("-wal"));
}

/** Serves the same data folder again and reads what object `name` kept. */
async function readBack(name: string): Promise<unknown> {
  const s = await serve();
  const r = await fetch(`${s.url}/store/${name}/read`);
  expect(r.status).toBe(200);
  const kept: unknown = await r.json();
  expect((await signal(s, "SIGTERM")).code).toBe(0);
  return kept;
}

describe("stopping terrarium serve", () => {
  it("ends a spinning object after the default 5 s grace period, exits 0 and keeps answered writes", async () => {
    project = stuckProject();
    const s = await serve();
    await write(s.url, "a", "before");
    const family = descendants(s.child.pid!);
    const spin = fetch(`${s.url}/store/a/spin`);
    await until(() => marked(project!.dataDir, "Store", "spinning"), "the Store object to spin");

    const exit = await signal(s, "SIGTERM");
    console.log(`[measured] spinning object, SIGTERM, default grace: exit after ${Math.round(exit.ms)} ms`);
    expect(exit.code).toBe(0);
    // The grace period was given in full (the object might have finished), and no more than that and a margin.
    expect(exit.ms).toBeGreaterThanOrEqual(4_900);
    expect(exit.ms).toBeLessThan(5_000 + MARGIN_MS);
    expect(s.stderr()).toBe(
      'terrarium: stopped after the 5000 ms grace period, cutting short 1 request and 1 object: Store "a" (1 event)\n',
    );
    const cut = await spin;
    expect(cut.status).toBe(503);
    expect(await cut.text()).toContain("the 5000 ms grace period ended");
    await expectNothingLeft(s.child.pid!, family);
    expect(unclosedDatabases(project.dataDir)).toEqual([]);
    // The object's record says why it stopped (the Inspector's timeline shows it).
    const registry = new Database(join(project.dataDir, "registry.sqlite"), { readonly: true });
    try {
      expect(registry.prepare("SELECT state FROM objects WHERE name = 'a'").get()).toEqual({
        state: "Hibernating",
      });
      expect(
        registry
          .prepare(
            "SELECT to_state, cause FROM transitions WHERE class_name = 'Store' ORDER BY seq DESC LIMIT 1",
          )
          .get(),
      ).toEqual({
        to_state: "Hibernating",
        cause: "Terrarium stopped: cut short (the 5000 ms grace period ended)",
      });
    } finally {
      registry.close();
    }

    expect(await readBack("a")).toEqual({ rows: ["before"], kv: "before" });
  }, 60_000);

  it("ends an object blocked forever in blockConcurrencyWhile when --grace is up", async () => {
    project = stuckProject();
    const s = await serve(["--grace", "1500"]);
    await write(s.url, "kept", "one");
    await write(s.url, "kept", "two");
    const family = descendants(s.child.pid!);
    const block = fetch(`${s.url}/gate/g/block`);
    await until(() => marked(project!.dataDir, "Gate", "blocked"), "the Gate object to block");

    const exit = await signal(s, "SIGTERM");
    console.log(
      `[measured] blockConcurrencyWhile forever, SIGTERM, --grace 1500: exit after ${Math.round(exit.ms)} ms`,
    );
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeGreaterThanOrEqual(1_400);
    expect(exit.ms).toBeLessThan(1_500 + MARGIN_MS);
    expect(s.stderr()).toBe(
      'terrarium: stopped after the 1500 ms grace period, cutting short 1 request and 1 object: Gate "g" (1 event)\n',
    );
    expect((await block).status).toBe(503);
    await expectNothingLeft(s.child.pid!, family);
    expect(unclosedDatabases(project.dataDir)).toEqual([]);

    expect(await readBack("kept")).toEqual({ rows: ["one", "two"], kv: "two" });
  }, 60_000);

  it("closes an open WebSocket with 1001 and exits 0 without waiting out the grace period", async () => {
    project = stuckProject();
    const s = await serve(["--grace", "30000"]);
    await write(s.url, "w", "with-socket");
    const ws = new WebSocket(`${s.url.replace("http", "ws")}/room/r`);
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    await new Promise<void>((r, reject) => {
      ws.once("open", () => r());
      ws.once("error", reject);
    });
    ws.send("hello");
    const echo = await new Promise<string>((r) => ws.once("message", (m: Buffer) => r(m.toString())));
    expect(echo).toBe("hello");
    const family = descendants(s.child.pid!);

    const exit = await signal(s, "SIGTERM");
    console.log(`[measured] open WebSocket, SIGTERM, --grace 30000: exit after ${Math.round(exit.ms)} ms`);
    expect(exit.code).toBe(0);
    // Nothing was in flight: the stop does not wait for the grace period to end.
    expect(exit.ms).toBeLessThan(30_000);
    expect(await closed).toBe(1001);
    // Nothing was cut short, so nothing is said.
    expect(s.stderr()).toBe("");
    await expectNothingLeft(s.child.pid!, family);
    expect(unclosedDatabases(project.dataDir)).toEqual([]);

    expect(await readBack("w")).toEqual({ rows: ["with-socket"], kv: "with-socket" });
  }, 60_000);

  it("keeps the CPU limit working while it stops: a spinning object is reset within a longer grace period", async () => {
    project = stuckProject();
    const s = await serve(["--cpu-limit", "1000", "--grace", "60000"]);
    await write(s.url, "c", "kept");
    const spin = fetch(`${s.url}/store/c/spin`);
    await until(() => marked(project!.dataDir, "Store", "spinning"), "the Store object to spin");

    const exit = await signal(s, "SIGTERM");
    console.log(
      `[measured] spinning object, SIGTERM, --cpu-limit 1000 --grace 60000: exit after ${Math.round(exit.ms)} ms`,
    );
    expect(exit.code).toBe(0);
    // The watchdog ended the object during the grace period, so the stop did not wait it out.
    expect(exit.ms).toBeLessThan(60_000);
    const reset = await spin;
    expect(reset.status).toBe(500);
    expect(await reset.text()).toContain("exceeded its CPU time limit of 1000 ms");
    expect(s.stderr()).toBe("");
    expect(await readBack("c")).toEqual({ rows: ["kept"], kv: "kept" });
  }, 90_000);

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "exits at once with %s sent twice (code %i), keeping answered writes",
    async (sig, code) => {
      project = stuckProject();
      // A grace period far longer than the test may take: only the second signal can end this stop.
      const s = await serve(["--grace", "600000"]);
      await write(s.url, "b", "answered");
      const family = descendants(s.child.pid!);
      const spin = fetch(`${s.url}/store/b/spin`).catch((e: unknown) => e);
      await until(() => marked(project!.dataDir, "Store", "spinning"), "the Store object to spin");

      const t0 = performance.now();
      s.child.kill(sig);
      // The first signal was taken once the router stops accepting (a path that, served, is a quick 404).
      await until(
        () =>
          fetch(`${s.url}/nothing`).then(
            (r) => r.status === 503,
            () => true,
          ),
        "the router to stop accepting (a 503, or no answer)",
      );
      s.child.kill(sig);
      const exit = await s.exited;
      const ms = exit.at - t0;
      console.log(
        `[measured] spinning object, ${sig} twice, --grace 600000: exit after ${Math.round(ms)} ms`,
      );
      expect(exit.code).toBe(code);
      expect(ms).toBeLessThan(60_000);
      expect(s.stderr()).toContain(`terrarium: ${sig} again, exiting now\n`);
      await spin;
      await expectNothingLeft(s.child.pid!, family);

      expect(await readBack("b")).toEqual({ rows: ["answered"], kv: "answered" });
    },
    90_000,
  );
});

describe("stopping with the parent (--exit-on-stdin-close)", () => {
  it("stops like SIGTERM when the parent closes stdin, by flag or by environment", async () => {
    project = stuckProject();
    for (const how of ["flag", "env"] as const) {
      const s =
        how === "flag"
          ? await serve(["--exit-on-stdin-close"], { stdin: "pipe" })
          : await serve([], { stdin: "pipe", env: { ...process.env, TERRARIUM_EXIT_ON_STDIN_CLOSE: "1" } });
      await write(s.url, how, how);
      const family = descendants(s.child.pid!);
      const t0 = performance.now();
      s.child.stdin!.end();
      const exit = await s.exited;
      console.log(`[measured] stdin closed (${how}): exit after ${Math.round(exit.at - t0)} ms`);
      expect(exit.code).toBe(0);
      expect(s.stderr()).toBe("");
      await expectNothingLeft(s.child.pid!, family);
      expect(await readBack(how)).toEqual({ rows: [how], kv: how });
    }
  }, 90_000);

  it("stops when its parent process dies, though stdin stays open", async () => {
    project = stuckProject();
    // The parent starts serve with the test's stdin pipe (which stays open) and is then killed.
    const parentCode = `
      const { spawn } = require("node:child_process");
      const c = spawn(process.execPath, ${JSON.stringify([BIN, "serve", project.dir, "--port", "0", "--data", project.dataDir, "--quiet", "--exit-on-stdin-close"])}, { stdio: "inherit" });
      console.log("serve pid " + c.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ["-e", parentCode], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    parent.stdout.on("data", (d: Buffer) => (out += d.toString()));
    let pid = 0;
    try {
      await until(() => /Ready on http/.test(out), '"Ready on http"', 60_000);
      pid = Number(/serve pid (\d+)/.exec(out)![1]);
      const url = /Ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      await write(url, "orphan", "kept");
      const family = descendants(pid);
      const t0 = performance.now();
      parent.kill("SIGKILL");
      await until(() => !running(pid), "the serve process to end");
      console.log(`[measured] parent killed: serve gone after ${Math.round(performance.now() - t0)} ms`);
      await expectNothingLeft(pid, family);
      expect(await readBack("orphan")).toEqual({ rows: ["kept"], kv: "kept" });
    } finally {
      parent.kill("SIGKILL");
      parent.stdin.end();
      if (pid && running(pid)) process.kill(pid, "SIGKILL");
    }
  }, 90_000);
});

describe("stopping terrarium load while it serves the project", () => {
  it("ends the run and the spinning object within --grace, naming what was cut short", async () => {
    project = stuckProject();
    const p = project;
    const s = await startCli(
      [
        "load",
        p.dir,
        "--data",
        p.dataDir,
        "--path",
        "/store/x/spin",
        "--rate",
        "5",
        "--duration",
        "10m",
        "--quiet",
        "--grace",
        "1500",
      ],
      { ready: null },
    );
    children.push(s);
    await until(() => marked(p.dataDir, "Store", "spinning"), "the Store object to spin", 30_000);
    const family = descendants(s.child.pid!);

    const exit = await signal(s, "SIGTERM");
    console.log(
      `[measured] load with a spinning object, SIGTERM, --grace 1500: exit after ${Math.round(exit.ms)} ms`,
    );
    // An interrupted run exits 130, as before; its summary is printed.
    expect(exit.code).toBe(130);
    expect(exit.ms).toBeLessThan(1_500 + MARGIN_MS);
    expect(s.stderr()).toMatch(
      /^terrarium: stopped after the 1500 ms grace period, cutting short \d+ requests? and 1 object: Store "x" \(\d+ events?\)$/m,
    );
    expect(s.stdout()).not.toBe("");
    await expectNothingLeft(s.child.pid!, family);
    expect(unclosedDatabases(join(p.dataDir, "objects"))).toEqual([]);
  }, 90_000);
});
