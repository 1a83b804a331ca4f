import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach } from "vitest";
import { tempProject } from "./project.ts";
import { EXIT_WITH_TEST, tiedToTest } from "./tied.ts";

const BIN = resolve(import.meta.dirname, "..", "..", "bin", "terrarium.js");

export interface Served {
  url: string;
  child: ChildProcess;
  output: () => string;
  /**
   * Sends SIGTERM and resolves with the exit code. A stop is bounded (grace
   * period, then workers are ended): one that takes longer than
   * STOP_BOUND_MS rejects with what the process was doing (a Node
   * diagnostic report: its JavaScript stack, its workers, its handles) and
   * the process is killed, instead of the test's hook timing out blind.
   */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Runs `terrarium serve` as a user would and waits for its Ready line. */
export function serve(projectDir: string, args: string[] = []): Promise<Served> {
  const reports = mkdtempSync(join(tmpdir(), "terrarium-report-"));
  const child = spawn(
    process.execPath,
    [
      "--report-on-signal",
      "--report-signal=SIGUSR2",
      `--report-directory=${reports}`,
      BIN,
      "serve",
      projectDir,
      "--port",
      "0",
      ...args,
      EXIT_WITH_TEST,
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  void exited.then(() => rmSync(reports, { recursive: true, force: true }));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not get ready:\n${out}`)), 30_000);
    const onData = (): void => {
      const m = /Ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      resolvePromise({
        url: m[1]!,
        child,
        output: () => out,
        stop: async (signal = "SIGTERM") => {
          const asked = Date.now();
          if (child.exitCode === null) child.kill(signal);
          const code = await Promise.race([exited, delay(STOP_BOUND_MS).then(() => "bound" as const)]);
          // A slow stop is worth seeing before it becomes a failure.
          const took = Date.now() - asked;
          if (took > 10_000)
            process.stderr.write(`[measured] serve took ${took} ms to exit after ${signal}\n`);
          if (code !== "bound") return code;
          const report = await diagnosticReport(child, reports);
          child.kill("SIGKILL");
          await exited;
          throw new Error(
            `serve did not exit within ${STOP_BOUND_MS} ms of ${signal}.\n${report}\n--- its output ---\n${out.slice(-4000)}`,
          );
        },
      });
    };
    child.stdout!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${out}`));
    });
  });
}

/**
 * Fixture copies and `terrarium serve` processes for the tests of one file:
 * whatever a test served is stopped (with `signal`) and whatever it copied is
 * removed as that test ends, pass or fail. A test may stop a server itself
 * first (to check its exit); stopping one that has exited is a no-op.
 */
export function servedPerTest(signal: NodeJS.Signals = "SIGKILL"): {
  project(fixture: string): ReturnType<typeof tempProject>;
  serve(projectDir: string, args?: string[]): Promise<Served>;
} {
  const servers: Served[] = [];
  const projects: ReturnType<typeof tempProject>[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop(signal);
    for (const p of projects.splice(0)) p.cleanup();
  });
  return {
    project(fixture) {
      const p = tempProject(fixture);
      projects.push(p);
      return p;
    },
    async serve(projectDir, args = []) {
      const s = await serve(projectDir, args);
      servers.push(s);
      return s;
    },
  };
}

const STOP_BOUND_MS = 45_000;

/**
 * What an afterEach that stops a server needs at most: the stop's bound, the
 * diagnostic report and the kill after it, and removing the data folder. A
 * hook with less would time out first and fail without the report.
 */
export const STOP_HOOK_TIMEOUT_MS = STOP_BOUND_MS + 30_000;

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Asks the process for a Node diagnostic report and returns its telling parts. */
async function diagnosticReport(child: ChildProcess, dir: string): Promise<string> {
  child.kill("SIGUSR2");
  for (let i = 0; i < 50; i++) {
    await delay(100);
    const file = readdirSync(dir).find((f) => f.endsWith(".json"));
    if (!file) continue;
    try {
      type Stack = { javascriptStack?: { message?: string; stack?: string[] } };
      const r = JSON.parse(readFileSync(join(dir, file), "utf8")) as Stack & {
        libuv?: { type: string; is_active: boolean }[];
        workers?: Stack[];
      };
      const stack = (s: Stack): string[] => s.javascriptStack?.stack ?? [String(s.javascriptStack?.message)];
      const handles = new Map<string, number>();
      for (const h of r.libuv ?? []) if (h.is_active) handles.set(h.type, (handles.get(h.type) ?? 0) + 1);
      return [
        `--- main thread's JavaScript stack ---`,
        ...stack(r),
        `--- active handles: ${[...handles].map(([t, n]) => `${n} ${t}`).join(", ")} ---`,
        ...(r.workers ?? []).flatMap((w, i) => [`--- worker ${i} ---`, ...stack(w).slice(0, 4)]),
      ].join("\n");
    } catch {
      // The report is still being written.
    }
  }
  return "(no diagnostic report: the main thread did not answer SIGUSR2 within 5 s; it is blocked)";
}

export function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise) => {
    const tied = tiedToTest(args);
    const child = spawn(process.execPath, [BIN, ...tied.args], { stdio: [tied.stdin, "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    child.once("exit", (code) => resolvePromise({ code, output }));
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the exit event came. */
  at: number;
}

export interface Started {
  child: ChildProcess;
  /** The address the ready line printed. */
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<Exit>;
}

/**
 * Runs a terrarium command as a user would (stdin from /dev/null unless
 * `stdin: "pipe"`) and resolves once stdout has a line matching `ready`
 * (its first group is the url), at once when `ready` is null. Rejects with
 * the output if it exits first.
 */
export function startCli(
  args: string[],
  opts: { ready?: RegExp | null; stdin?: "ignore" | "pipe"; env?: NodeJS.ProcessEnv } = {},
): Promise<Started> {
  const ready = opts.ready === undefined ? /Ready on (http:\/\/127\.0\.0\.1:\d+)/ : opts.ready;
  // Unless the test chooses stdin itself, the command is tied to the test process (tied.ts).
  const tied = opts.stdin === undefined ? tiedToTest(args) : { args, stdin: opts.stdin };
  const child = spawn(process.execPath, [BIN, ...tied.args], {
    stdio: [tied.stdin, "pipe", "pipe"],
    ...(opts.env ? { env: opts.env } : {}),
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<Exit>((r) =>
    child.once("exit", (code, signal) => r({ code, signal, at: performance.now() })),
  );
  if (ready === null) {
    return Promise.resolve({ child, url: "", stdout: () => out, stderr: () => err, exited });
  }
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 60 s:\n${out}\n${err}`)), 60_000);
    const onData = (): void => {
      const m = ready.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      resolvePromise({ child, url: m[1]!, stdout: () => out, stderr: () => err, exited });
    };
    child.stdout!.on("data", onData);
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${e.code ?? e.signal} before it was ready:\n${out}\n${err}`));
    });
  });
}
