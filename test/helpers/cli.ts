import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

const BIN = resolve(import.meta.dirname, "..", "..", "bin", "terrarium.js");

export interface Served {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Runs `terrarium serve` as a user would and waits for its Ready line. */
export function serve(projectDir: string, args: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", projectDir, "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
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
          if (child.exitCode === null) child.kill(signal);
          return exited;
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

export function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
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
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: [opts.stdin ?? "ignore", "pipe", "pipe"],
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
