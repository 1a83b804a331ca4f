import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { constants, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getSystemErrorName, parseArgs } from "node:util";
import type { WorkerObject } from "../lifecycle/lifecycle.ts";
import { describeCrash, refusalMessage } from "./crash.ts";
export { describeCrash, refusalMessage, type Crash } from "./crash.ts";
import { McpRelay } from "./mcp-relay.ts";
import { onParentGone } from "./parent-watch.ts";
import {
  CRASH_DIR_ENV,
  CRASH_REPORT,
  SUPERVISED_ENV,
  UI_TOKEN_ENV,
  type Refusal,
  type SocketMessage,
  type SocketName,
  type StartMessage,
  type ToSupervisor,
} from "./supervised.ts";

/**
 * `terrarium serve` and `terrarium ui` as two processes: this thin
 * supervisor, and the engine in a child process (the same command again,
 * with TERRARIUM_SUPERVISED=1).
 *
 * Why: an object worker's heap is capped (resourceLimits), and when V8
 * reaches the cap Node grants the worker 16 MB more and asks it to stop
 * (`Worker::NearHeapLimit`, `kExtraHeapAllowance` in node_worker.cc). An
 * allocation larger than that leeway cannot be satisfied, and V8's answer
 * is `FatalProcessOutOfMemory`: it aborts the whole process, with every
 * other object in it. Nothing inside the process can prevent it on Node 20
 * (no per-worker heap reading from outside the thread, and the allocation
 * is one synchronous step inside it), so the engine runs in a process that
 * can die, under one that does not.
 *
 * The supervisor binds the router's socket (and `ui`'s, whose token it
 * also picks) and hands it to each engine process; it keeps it open across
 * a restart, so connections made
 * meanwhile wait in the socket's backlog and are answered by the next
 * engine (a delay, not a refusal). An engine that dies of a signal (an
 * abort, a crash, the OOM killer) after it was ready is started again on
 * the same port and data folder, with one line saying what died and why:
 * the engine writes a Node report on a fatal error, which names the thread,
 * and tells the supervisor which object each thread serves. That object's
 * next request is refused once, with the reason, so that a client retrying
 * it does not take the server down again at once; the one after runs it.
 *
 * Everything else is the engine's own behaviour passed through: its output,
 * its exit code, its stop. SIGINT and SIGTERM are forwarded (the engine runs
 * in its own process group so a terminal's Ctrl-C reaches it once, through
 * here); a second one is forwarded too and the engine exits at once; with
 * --exit-on-stdin-close the supervisor watches stdin and its parent and
 * stops the engine as on SIGTERM. If the supervisor itself is killed, the
 * engine ends at once (its IPC channel closes).
 */

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "terrarium.js");

/** Past the grace period, how long the engine may take to stop before it is killed (its own backstop is 10 s). */
const STOP_BACKSTOP_MS = 15_000;
/** After a second signal, how long the engine may take to exit before it is killed. */
const SECOND_SIGNAL_MS = 3_000;
/** Crashes closer together than this count as a streak: each restart of a streak waits twice as long. */
const STREAK_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

interface TcpHandle {
  close(): void;
  getsockname(out: { port?: number }): number;
}

/**
 * Binds a command's address without listening on it here: listen(2) is
 * called by the engine process on its copy, and this process never polls
 * the socket, so it never accepts a connection itself. `net.Server` has no
 * way to hold a socket without accepting on it; this is the call Node's
 * cluster module makes for the same purpose (`net._createServerHandle`).
 * Returns null when the flags are not valid (the engine says why), and
 * exits with the message the engine would give for a port in use or an
 * address the machine does not have.
 */
function bindSocket(
  portFlag: string | undefined,
  defaultPort: number,
  flag: string,
  ipFlag: string | undefined,
): TcpHandle | null {
  const port = portFlag === undefined ? defaultPort : Number(portFlag);
  const host = ipFlag === undefined || ipFlag === "localhost" ? "127.0.0.1" : ipFlag;
  const family = net.isIP(host);
  if (!Number.isInteger(port) || port < 0 || port > 65_535 || family === 0) return null;
  const create = (net as unknown as { _createServerHandle?: unknown })._createServerHandle;
  if (typeof create !== "function") return null;
  const handle = (create as (a: string, p: number, t: number) => TcpHandle | number)(host, port, family);
  if (typeof handle === "number") {
    const code = getSystemErrorName(handle);
    if (code === "EADDRINUSE") quit(`port ${port} is in use; pick another with ${flag}`, 1);
    if (code === "EADDRNOTAVAIL") quit(`--ip ${host} is not an address of this machine`, 1);
    quit(`cannot listen on ${host}:${port}: ${code}`, 1);
  }
  return handle;
}

/** The sockets a command listens on, bound here; empty when a flag is not valid (the engine says why). */
function bindSockets(
  command: SupervisedCommand,
  values: Record<string, string | boolean | undefined>,
): Map<SocketName, TcpHandle> {
  const str = (k: string): string | undefined =>
    typeof values[k] === "string" ? (values[k] as string) : undefined;
  const wanted: [SocketName, TcpHandle | null][] =
    command === "serve"
      ? [["router", bindSocket(str("port"), 8787, "--port", str("ip"))]]
      : command === "mcp" || command === "load"
        ? [["router", bindSocket(command === "mcp" ? str("port") : undefined, 0, "--port", undefined)]]
        : [
            ["router", bindSocket(str("router-port"), 8787, "--router-port", undefined)],
            ["ui", bindSocket(str("port"), 0, "--port", undefined)],
          ];
  const bound = new Map<SocketName, TcpHandle>();
  for (const [name, handle] of wanted) if (handle) bound.set(name, handle);
  if (bound.size === wanted.length) return bound;
  for (const handle of bound.values()) handle.close();
  return new Map();
}

function quit(message: string, code: number): never {
  process.stderr.write(`terrarium: ${message}\n`);
  process.exit(code);
}

/**
 * Forwards the engine's stderr line by line, except V8's out-of-memory dump
 * (the last GCs and a native stack trace): the supervisor's one line says
 * what happened instead. Any other fatal dump is forwarded as it is.
 */
function stderrFilter(): { write(chunk: Buffer): void; end(): void } {
  let partial = "";
  let dump: string[] | null = null;
  return {
    write(chunk) {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop()!;
      let out = "";
      for (const line of lines) {
        if (dump === null && (line.startsWith("<--- Last few GCs") || line.startsWith("FATAL ERROR:")))
          dump = [];
        if (dump !== null) dump.push(line);
        else out += `${line}\n`;
      }
      if (out) process.stderr.write(out);
    },
    end() {
      const rest = [...(dump ?? []), ...(partial ? [partial] : [])];
      if (rest.length > 0 && !(dump ?? []).some((l) => /heap out of memory/i.test(l)))
        process.stderr.write(`${rest.join("\n")}\n`);
      partial = "";
      dump = null;
    },
  };
}

/**
 * The commands that run supervised: `serve`, `ui`, `mcp` (whose stdio
 * the supervisor relays: mcp-relay.ts) and `load` when it serves the
 * project (whose run is driven from the supervisor's process: load.ts).
 */
export type SupervisedCommand = "serve" | "ui" | "mcp" | "load";

/**
 * A command that does its own work in the supervisor's process beside the
 * engine's (`load`: the run and its summary). It takes the signals and
 * the parent watch itself, and ends the command with `stop`.
 */
export interface SupervisorFront {
  /** Each engine process once it is ready (again after a restart), with its router's port. */
  ready(engine: ChildProcess, port: number): void;
  /** The engine's process died; it is being started again (`line` was printed). */
  died(line: string): void;
  /** A message from the engine's process that is not the supervisor's (the front's own protocol). */
  message(m: unknown): void;
}

export interface Supervision {
  /**
   * Stops the engine as a first SIGTERM would (bounded by its grace
   * period) and resolves with its exit code; the front then exits itself.
   * (Exiting at once is the front's too: the engine's process ends with its
   * IPC channel.)
   */
  stop(): Promise<number>;
}

/** `terrarium serve|ui|mcp|load ARGV`, supervised. */
export function supervise(command: SupervisedCommand, argv: string[], front?: SupervisorFront): Supervision {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    allowPositionals: true,
    options: {
      port: { type: "string" },
      "router-port": { type: "string" },
      ip: { type: "string" },
      grace: { type: "string" },
      "exit-on-stdin-close": { type: "boolean" },
    },
  });
  const handles = bindSockets(command, values);
  const graceMs = Number(typeof values.grace === "string" ? values.grace : 5_000) || 5_000;
  const crashDir = mkdtempSync(join(tmpdir(), "terrarium-crash-"));
  const env: NodeJS.ProcessEnv = { ...process.env, [SUPERVISED_ENV]: "1", [CRASH_DIR_ENV]: crashDir };
  // The page's address holds the token: the same one across restarts, so an open page reconnects.
  if (command === "ui") env[UI_TOKEN_ENV] = randomBytes(32).toString("hex");
  // The supervisor watches stdin and its parent; the engine's stdin is not a pipe to anyone
  // (mcp's is the relay's: mcp always ends with its client's stdin).
  const exitOnStdinClose =
    command === "mcp" || values["exit-on-stdin-close"] === true || env.TERRARIUM_EXIT_ON_STDIN_CLOSE === "1";
  const relay = command === "mcp" ? new McpRelay((line) => process.stdout.write(`${line}\n`)) : null;
  if (relay) {
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (d: string) => relay.fromClient(d));
  }
  delete env.TERRARIUM_EXIT_ON_STDIN_CLOSE;
  const childArgv = argv.filter((a) => a !== "--exit-on-stdin-close");

  let child: ChildProcess | null = null;
  let stopping: NodeJS.Signals | null = null;
  /** With a front, a stop resolves this instead of exiting. */
  let stopped: ((code: number) => void) | null = null;
  let refuse: Refusal[] = [];
  let crashes = 0;
  let lastCrashAt = 0;
  let streak = 0;
  let restartTimer: NodeJS.Timeout | null = null;
  /** Whether the engine now running has said it is ready (its own stop then handles a SIGTERM). */
  let engineReady = false;
  /** Stdin ended or the parent went while the engine was starting: stop once it is ready (or has ended). */
  let stopWhenReady = false;

  const exit = (code: number): never => {
    rmSync(crashDir, { recursive: true, force: true });
    process.exit(code);
  };

  const start = (restartedAt: number | null): void => {
    engineReady = false;
    const threads = new Map<number, WorkerObject | null>();
    let ready = false;
    let memoryLimitMb = 128;
    const c = spawn(process.execPath, [...process.execArgv, BIN, command, ...childArgv], {
      stdio: relay ? ["pipe", "pipe", "pipe", "ipc"] : ["ignore", "inherit", "pipe", "ipc"],
      detached: true,
      env,
    });
    child = c;
    if (relay) {
      c.stdout!.setEncoding("utf8");
      c.stdout!.on("data", (d: string) => relay.fromEngine(d));
      // An engine that dies leaves its stdin pipe broken: what the relay writes then is the next one's.
      c.stdin!.on("error", () => {});
      relay.attach((line) => c.stdin!.write(`${line}\n`), restartedAt !== null);
    }
    const filter = stderrFilter();
    c.stderr!.on("data", (d: Buffer) => filter.write(d));
    c.on("message", (m: ToSupervisor) => {
      if (m.t === "hello") {
        const start: StartMessage = { t: "start", refuse, sockets: [...handles.keys()] };
        refuse = [];
        c.send(start);
        for (const [name, handle] of handles) {
          const socket: SocketMessage = { t: "socket", name };
          c.send(socket, handle as unknown as net.Server);
        }
      } else if (m.t === "thread") threads.set(m.thread, m.object);
      else if (m.t === "ready") {
        ready = true;
        engineReady = true;
        memoryLimitMb = m.memoryLimitMb;
        if (restartedAt !== null) {
          process.stderr.write(
            `terrarium: serving again, ${Date.now() - restartedAt} ms after the engine process ended\n`,
          );
        }
        front?.ready(c, m.port);
        if (stopWhenReady && !stopping) onSignal("SIGTERM");
      } else front?.message(m);
    });
    c.on("close", (code, signal) => {
      filter.end();
      child = null;
      if (stopping) {
        const exitCode = code ?? 128 + (constants.signals[signal!] ?? 0);
        if (stopped) {
          rmSync(crashDir, { recursive: true, force: true });
          return stopped(exitCode);
        }
        exit(exitCode);
      }
      if (code !== null || !ready) {
        // The engine ended on its own (a bad flag or project, or stopped directly):
        // its exit code is the command's. One that dies before it is ready would only do it again.
        if (code !== null) exit(code);
        process.stderr.write(`terrarium: the engine process ended by ${signal} before it was ready\n`);
        exit(128 + (constants.signals[signal!] ?? 0));
      }
      const diedAt = Date.now();
      const reportFile = join(crashDir, CRASH_REPORT);
      let report = null;
      try {
        if (existsSync(reportFile))
          report = JSON.parse(readFileSync(reportFile, "utf8")) as Parameters<typeof describeCrash>[1];
      } catch {
        // a report cut short: the signal says what it can
      }
      rmSync(reportFile, { force: true });
      const crash = describeCrash(signal!, report, threads, memoryLimitMb);
      relay?.detach(
        `the Terrarium engine process ended before answering: ${crash.what}; it is restarting, and the session goes on`,
      );
      crashes++;
      streak = diedAt - lastCrashAt < STREAK_MS ? streak + 1 : 0;
      lastCrashAt = diedAt;
      const delay = streak === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** streak);
      if (crash.object && crash.outOfMemory)
        refuse = [{ id: crash.object.id, message: refusalMessage(crash.object, memoryLimitMb) }];
      const line = `terrarium: ${crash.what}; restarting it on the same port and data folder${delay ? ` in ${delay} ms (crash ${crashes}, ${streak + 1} in a row)` : ""}`;
      process.stderr.write(`${line}\n`);
      front?.died(line);
      restartTimer = setTimeout(() => {
        restartTimer = null;
        start(diedAt);
      }, delay);
    });
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal: the engine exits at once with 128 + its number.
      child?.kill(signal);
      setTimeout(() => {
        child?.kill("SIGKILL");
        exit(128 + constants.signals[signal]);
      }, SECOND_SIGNAL_MS).unref();
      return;
    }
    stopping = signal;
    // Closing these copies of the sockets lets the engine's close refuse new connections, as without a supervisor.
    for (const handle of handles.values()) handle.close();
    if (restartTimer) clearTimeout(restartTimer);
    const running = child as ChildProcess | null;
    if (!running) {
      if (stopped) return stopped(0);
      return exit(0);
    }
    running.kill(signal);
    setTimeout(() => {
      process.stderr.write(
        `terrarium: the engine process did not stop within the ${graceMs} ms grace period and ${STOP_BACKSTOP_MS} ms more; killing it\n`,
      );
      child?.kill("SIGKILL");
      exit(1);
    }, graceMs + STOP_BACKSTOP_MS).unref();
  };
  start(null);
  let stop: Promise<number> | null = null;
  const supervision: Supervision = {
    stop() {
      stop ??= new Promise<number>((resolve) => {
        stopped = resolve;
        onSignal("SIGTERM");
      });
      return stop;
    },
  };
  // With a front, the front takes the signals and the parent watch, and ends the command.
  if (front) return supervision;
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  if (exitOnStdinClose) {
    onParentGone(() => {
      if (stopping || stopWhenReady) return;
      if (child && !engineReady) {
        // A SIGTERM now would kill an engine still starting before it could say why it cannot
        // (a bad flag, a broken project: it exits with that line and its code) or stop cleanly.
        stopWhenReady = true;
        setTimeout(() => {
          if (!stopping) onSignal("SIGTERM");
        }, graceMs + STOP_BACKSTOP_MS).unref();
        return;
      }
      onSignal("SIGTERM");
    });
  }
  return supervision;
}
