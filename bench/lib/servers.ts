import { fork, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { parse as parseJsonc } from "jsonc-parser";
import { descendants } from "./proc.ts";
import type { WorkerdConfig, WorkerdReply } from "./protocol.ts";

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** A server process the bench started, with what the measurements need. */
export interface RunningServer {
  readonly label: string;
  readonly url: string;
  /** The process we spawned (Terrarium: the serve process; workerd: the Node process hosting Miniflare). */
  readonly pid: number;
  /** The processes whose CPU and memory count as the server. */
  serverPids(): number[];
  /** Output the server wrote (stderr, and stdout after the ready line), for diagnostics. */
  output(): string;
  /** Ends the server and everything it started; idempotent. */
  stop(): Promise<void>;
  /** Last resort from a synchronous exit handler: SIGKILL to the process group. */
  killNow(): void;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // Each server runs in a process group of its own (detached), so this
    // reaches the server and its children and nothing else.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function exitedPromise(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

function stopper(
  child: ChildProcess,
  cleanup: () => Promise<void>,
  askToStop: () => void = () => child.kill("SIGTERM"),
): { stop(): Promise<void>; killNow(): void } {
  const exited = exitedPromise(child);
  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          // The server first, so it can stop its own children in order (Miniflare disposes workerd).
          askToStop();
          const timer = setTimeout(() => killGroup(child, "SIGKILL"), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(timer);
        }
        // Anything the server left behind in its group (e.g. a workerd whose parent died).
        killGroup(child, "SIGKILL");
        await cleanup();
      })();
      return stopping;
    },
    killNow() {
      killGroup(child, "SIGKILL");
    },
  };
}

class OutputTail {
  #text = "";
  add(chunk: string): void {
    this.#text = (this.#text + chunk).slice(-20_000);
  }
  get text(): string {
    return this.#text;
  }
}

/**
 * `node bin/terrarium.js serve <project> --port 0 --data <tmp> --quiet [extraArgs]`,
 * ready once it prints its URL.
 */
export async function startTerrarium(
  repoRoot: string,
  projectDir: string,
  extraArgs: readonly string[] = [],
): Promise<RunningServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "terrarium-bench-data-"));
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "bin", "terrarium.js"),
      "serve",
      projectDir,
      "--port",
      "0",
      "--data",
      dataDir,
      "--quiet",
      ...extraArgs,
    ],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const { stop, killNow } = stopper(child, () => rm(dataDir, { recursive: true, force: true }));
  const tail = new OutputTail();
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c: string) => tail.add(c));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = "";
      const fail = (why: string): void => {
        clearTimeout(timer);
        reject(new Error(`terrarium serve ${why}\n--- stdout ---\n${stdout}\n--- stderr ---\n${tail.text}`));
      };
      const timer = setTimeout(
        () => fail(`printed no "Ready on" line within ${READY_TIMEOUT_MS} ms`),
        READY_TIMEOUT_MS,
      );
      const onData = (c: string): void => {
        stdout += c;
        const m = /Ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (m?.[1]) {
          clearTimeout(timer);
          child.stdout.off("data", onData);
          child.stdout.on("data", (more: string) => tail.add(more));
          resolve(m[1]);
        }
      };
      child.stdout.on("data", onData);
      child.once("error", (e) => fail(`could not be started: ${e.message}`));
      child.once("exit", (code, signal) =>
        fail(`exited before it was ready (code ${code}, signal ${signal})`),
      );
    });
    const pid = child.pid!;
    return {
      label: "Terrarium",
      url,
      pid,
      // The engine's process first (its supervisor's child: the objects' workers are there), then the supervisor.
      serverPids: () => [
        ...descendants(pid)
          .filter((p) => p.ppid === pid && p.comm === "node")
          .map((p) => p.pid),
        pid,
      ],
      output: () => tail.text,
      stop,
      killNow,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface WranglerBasics {
  name: string;
  main: string;
  compatibilityDate: string;
}

export async function readWrangler(projectDir: string): Promise<WranglerBasics> {
  const raw = parseJsonc(await readFile(join(projectDir, "wrangler.jsonc"), "utf8"), [], {
    allowTrailingComma: true,
  }) as Record<string, unknown>;
  if (
    typeof raw.name !== "string" ||
    typeof raw.main !== "string" ||
    typeof raw.compatibility_date !== "string"
  ) {
    throw new Error(`${projectDir}/wrangler.jsonc: name, main and compatibility_date are required`);
  }
  return { name: raw.name, main: raw.main, compatibilityDate: raw.compatibility_date };
}

/**
 * Bundles the project (esm, `cloudflare:workers` external) and serves it
 * from workerd through Miniflare, in a Node process of its own.
 */
export async function startWorkerd(repoRoot: string, projectDir: string): Promise<RunningServer> {
  const w = await readWrangler(projectDir);
  const dir = await mkdtemp(join(tmpdir(), "terrarium-bench-workerd-"));
  const scriptPath = join(dir, "bundle", "index.js");
  try {
    await build({
      entryPoints: [join(projectDir, w.main)],
      outfile: scriptPath,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      external: ["cloudflare:workers"],
      logLevel: "silent",
    });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const config: WorkerdConfig = {
    name: w.name,
    scriptPath,
    compatibilityDate: w.compatibilityDate,
    persistDir: join(dir, "do"),
  };
  const child = fork(join(repoRoot, "bench", "workerd-server.ts"), [JSON.stringify(config)], {
    cwd: repoRoot,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    detached: true,
  });
  // Asked over IPC rather than with SIGTERM: Miniflare's own SIGTERM hook exits at once,
  // without waiting for workerd to end (it is left a zombie for init to reap).
  const { stop, killNow } = stopper(
    child,
    () => rm(dir, { recursive: true, force: true }),
    () => {
      if (child.connected) child.send({ type: "stop" });
      else child.kill("SIGTERM");
    },
  );
  const tail = new OutputTail();
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stdout?.on("data", (c: string) => tail.add(c));
  child.stderr?.on("data", (c: string) => tail.add(c));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        reject(new Error(`workerd (Miniflare) ${why}\n--- output ---\n${tail.text}`));
      };
      const timer = setTimeout(() => fail(`was not ready within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
      child.on("message", (raw: unknown) => {
        const msg = raw as WorkerdReply;
        if (msg.type === "ready") {
          clearTimeout(timer);
          resolve(msg.url);
        } else if (msg.type === "failed") fail(`failed to start: ${msg.error}`);
      });
      child.once("error", (e) => fail(`could not be started: ${e.message}`));
      child.once("exit", (code, signal) =>
        fail(`exited before it was ready (code ${code}, signal ${signal})`),
      );
    });
    const pid = child.pid!;
    const workerdPids = (): number[] =>
      descendants(pid)
        .filter((s) => s.comm === "workerd")
        .map((s) => s.pid);
    if (workerdPids().length === 0)
      throw new Error("Miniflare is ready but no workerd process was found under it");
    return {
      label: "workerd",
      url,
      pid,
      serverPids: workerdPids,
      output: () => tail.text,
      stop,
      killNow,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
