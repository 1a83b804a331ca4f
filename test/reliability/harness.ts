import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FIXTURES } from "../helpers/project.ts";
import { EXIT_WITH_TEST, tiedToTest } from "../helpers/tied.ts";

/**
 * What the fault-injection suite shares: a private copy of a project and a
 * data folder, `terrarium serve` as a real child process, and what /proc
 * says about that process. Every wait is bounded and names what it waited for.
 */

export const BIN = resolve(import.meta.dirname, "..", "..", "bin", "terrarium.js");

export interface Sandbox {
  root: string;
  dir: string;
  dataDir: string;
  cleanup: () => void;
}

export function sandbox(fixture: string): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "terrarium-rel-"));
  const dir = join(root, "project");
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  return {
    root,
    dir,
    dataDir: join(root, "data"),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface Server {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
  /** SIGKILL to `terrarium serve`: its supervisor and its engine's process. */
  kill9: () => Promise<number | string>;
}

/** `terrarium serve DIR --port 0 --data DATA ...`, resolved on its "Ready on" line. */
export function startServe(box: Sandbox, args: string[] = [], readyMs = 60_000): Promise<Server> {
  const child = spawn(
    process.execPath,
    [BIN, "serve", box.dir, "--port", "0", "--data", box.dataDir, "--no-watch", ...args, EXIT_WITH_TEST],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) =>
    child.once("exit", (code, signal) => r(code ?? signal ?? "unknown")),
  );
  return new Promise((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`serve did not print Ready within ${readyMs} ms:\n${out}`)),
      readyMs,
    );
    const onData = (): void => {
      const m = /Ready on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      ok({
        url: m[1]!,
        port: Number(m[2]),
        pid: child.pid!,
        child,
        output: () => out,
        exited,
        kill9: () => {
          if (child.exitCode === null && child.signalCode === null) {
            // The supervisor and the engine's process at once, as a crash of the machine's
            // process would: killing the supervisor alone lets the engine finish what it
            // is doing before it notices and ends itself.
            const engine = enginePid(child.pid!);
            child.kill("SIGKILL");
            if (engine !== null) process.kill(engine, "SIGKILL");
          }
          return exited;
        },
      });
    };
    child.stdout!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`serve exited (${code}) before it was ready:\n${out}`));
    });
  });
}

/** Runs the CLI to its end and returns its exit code and output (bounded). */
export function runCli(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | string; output: string; timedOut: boolean }> {
  return new Promise((ok) => {
    const tied = tiedToTest(args);
    const child = spawn(process.execPath, [BIN, ...tied.args], { stdio: [tied.stdin, "pipe", "pipe"] });
    let output = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      ok({ code: code ?? signal ?? "unknown", output, timedOut });
    });
  });
}

/** Open file descriptors of a process (Linux). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** OS threads of a process: each worker_thread adds a fixed handful. */
export function threadCount(pid: number): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
}

/** Resident memory of a process, in MB. */
export function rssMb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
}

/** Local TCP sockets a process listens on, as "address:port" (from /proc/net/tcp{,6}). */
export function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSafe(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.trim().split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // st 0A = LISTEN
      if (f[3] !== "0A" || !inodes.has(f[9]!)) continue;
      const [hexAddr, hexPort] = f[1]!.split(":") as [string, string];
      out.push(`${decodeAddress(hexAddr)}:${parseInt(hexPort, 16)}`);
    }
  }
  return out.sort();
}

function readlinkSafe(p: string): string {
  return readlinkSync(p);
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) {
    return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(".");
  }
  if (hex === "00000000000000000000000000000000") return "[::]";
  if (hex.startsWith("0000000000000000FFFF0000")) return `[::ffff:${decodeAddress(hex.slice(24))}]`;
  return `[${hex}]`;
}

/** Waits for `cond`, bounded; names what it waited for when it gives up. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Prints one line of figures, prefixed so the suite's figures can be grepped from its output. */
export function figure(what: string, value: unknown): void {
  process.stdout.write(`[figure] ${what}: ${typeof value === "string" ? value : JSON.stringify(value)}\n`);
}

/**
 * The engine process of a `terrarium serve` (its supervisor's child running
 * bin/terrarium.js), or null while there is none (between a crash and the
 * restart). /proc of this process is where objects' workers, memory and
 * descriptors are.
 */
export function enginePid(servePid: number): number | null {
  let children: number[];
  try {
    children = readFileSync(`/proc/${servePid}/task/${servePid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return null;
  }
  for (const pid of children) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("terrarium.js")) return pid;
    } catch {
      // ended meanwhile
    }
  }
  return null;
}
