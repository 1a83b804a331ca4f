import { mkdtempSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import type { ControlApi } from "../runtime/api/contract.ts";
import { PortApi } from "../runtime/api/port-api.ts";
import { describeCrash, refusalMessage, takeCrashReport } from "../runtime/cli/crash.ts";
import type { Refusal } from "../runtime/cli/supervised.ts";
import type { WorkerObject } from "../runtime/lifecycle/lifecycle.ts";
import type { EngineInfo, FromEngine, ToEngine } from "./engine-protocol.ts";

export type { EngineInfo } from "./engine-protocol.ts";

/**
 * The part of Electron's UtilityProcess the host uses (a Node child process
 * stands in for it in the tests). No Electron import here: main passes
 * `utilityProcess.fork` in.
 */
export interface UtilityChild {
  readonly pid?: number | undefined;
  postMessage(message: unknown): void;
  on(event: "message", listener: (message: unknown) => void): unknown;
  on(event: "exit", listener: (code: number) => void): unknown;
  kill(): boolean;
}

export interface EngineHostOptions {
  /** Starts engine-process.js in a utility process (Electron's `utilityProcess.fork`). */
  fork: () => UtilityChild;
  appRoot: string;
  /** The router's port at first (default 8787, or any free one if it is taken); restarts keep the port it got. */
  port?: number;
  log?: (line: string) => void;
  /** A restarted engine serves again (its router's address may have changed if its port was taken meanwhile). */
  onRestart?: (info: EngineInfo, previous: EngineInfo) => void;
  /** The engine died and could not be started again: the project is closed, saying why. */
  onGone?: (why: Error) => void;
}

/** After a stop's grace period, how long the engine's process may take before it is killed (its own backstop is 10 s). */
const STOP_BACKSTOP_MS = 15_000;
/** Crashes closer together than this count as a streak: each restart of a streak waits twice as long. */
const STREAK_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

/** How the process ended, for the line: a signal when the exit code is 128 + its number. */
function ending(code: number): string {
  if (code > 128) {
    const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name) return name;
  }
  return `exit code ${code}`;
}

/**
 * The desktop app's engine in a utility process, supervised as the CLI's
 * supervisor does it (runtime/cli/supervise.ts): Electron main keeps the
 * window and its IPC, and forwards the control API to the engine over the
 * utility process's message port (`api`, the same object before and after
 * a restart). An engine process that dies after it was ready (an object's
 * allocation past its heap limit aborts V8's whole process) is started
 * again on the same project, port and data folder, at once (a crash less
 * than 10 s after the previous one waits 1, 2, 4 ... up to 30 s); one line
 * says what died and why (Node's report names the thread; the engine tells
 * which object each thread serves), and that object's next request is
 * refused once with the reason. Calls in flight in the dead process fail
 * with that line; calls made during the restart wait for the new engine.
 *
 * Unlike the CLI's supervisor, the router's socket cannot be handed to a
 * utility process (its port carries messages and MessagePorts, not
 * handles): the new engine listens on the same port again, so a client
 * connecting during the restart is refused rather than held.
 */
export class EngineHost {
  readonly #opts: EngineHostOptions;
  readonly #port = new PortApi();
  readonly #crashDir = mkdtempSync(join(tmpdir(), "terrarium-crash-"));
  #child: UtilityChild | null = null;
  #info: EngineInfo | null = null;
  #projectDir: string | null = null;
  #stopping: ((line: string | null) => void) | null = null;
  #stopLine: string | null = null;
  #restartTimer: NodeJS.Timeout | null = null;
  #lastCrashAt = 0;
  #streak = 0;
  #crashes = 0;

  constructor(opts: EngineHostOptions) {
    this.#opts = opts;
  }

  /** The control API of the engine, whichever process runs it. */
  get api(): ControlApi {
    return this.#port.api;
  }

  /** The open project's engine, as it last reported ready (null before). */
  get info(): EngineInfo | null {
    return this.#info;
  }

  /** The engine's process id, while one runs. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** How many times the engine's process died and was started again. */
  get crashes(): number {
    return this.#crashes;
  }

  #log(line: string): void {
    (this.#opts.log ?? ((l: string) => console.error(l)))(line);
  }

  /** Opens a project in a new engine process; rejects with the engine's message when it cannot be opened. */
  open(projectDir: string): Promise<EngineInfo> {
    if (this.#projectDir !== null) throw new Error("an EngineHost opens one project; make another");
    this.#projectDir = projectDir;
    return this.#start([], null);
  }

  #start(refuse: Refusal[], restartedAt: number | null): Promise<EngineInfo> {
    const child = this.#opts.fork();
    this.#child = child;
    const threads = new Map<number, WorkerObject | null>();
    let ready = false;
    let failure: string | null = null;
    let memoryLimitMb = this.#info?.memoryLimitMb ?? 128;
    return new Promise((resolve, reject) => {
      child.on("message", (message) => {
        if (this.#port.onMessage(message)) return;
        const m = message as FromEngine;
        if (m.type === "thread") threads.set(m.thread, m.object);
        else if (m.type === "ready") {
          ready = true;
          const previous = this.#info;
          const info: EngineInfo = {
            url: m.url,
            port: m.port,
            projectDir: m.projectDir,
            dataDir: m.dataDir,
            memoryLimitMb: m.memoryLimitMb,
          };
          memoryLimitMb = info.memoryLimitMb;
          this.#info = info;
          this.#port.connected(child);
          if (restartedAt !== null) {
            this.#log(
              `terrarium: serving again, ${Date.now() - restartedAt} ms after the engine process ended`,
            );
            if (previous) this.#opts.onRestart?.(info, previous);
          }
          resolve(info);
        } else if (m.type === "failed") {
          failure = m.message;
          child.kill();
        } else if (m.type === "stopped") {
          this.#stopLine = m.line;
          child.kill();
        }
      });
      child.on("exit", (code) => {
        if (this.#child === child) this.#child = null;
        if (this.#stopping) {
          const done = this.#stopping;
          this.#stopping = null;
          this.#port.close(new Error("the project was closed"));
          rmSync(this.#crashDir, { recursive: true, force: true });
          done(this.#stopLine);
          return;
        }
        if (!ready) {
          const why = new Error(
            failure ?? `the engine process ended (${ending(code)}) before the project was open`,
          );
          this.#port.close(why);
          rmSync(this.#crashDir, { recursive: true, force: true });
          reject(why);
          if (restartedAt !== null) this.#opts.onGone?.(why);
          return;
        }
        this.#crashed(code, threads, memoryLimitMb);
      });
      const open: ToEngine = {
        type: "open",
        projectDir: this.#projectDir!,
        appRoot: this.#opts.appRoot,
        crashDir: this.#crashDir,
        port: this.#info?.port ?? this.#opts.port ?? null,
        refuse,
      };
      child.postMessage(open);
    });
  }

  #crashed(code: number, threads: ReadonlyMap<number, WorkerObject | null>, memoryLimitMb: number): void {
    const diedAt = Date.now();
    const report = takeCrashReport(this.#crashDir);
    const crash = describeCrash(ending(code), report, threads, memoryLimitMb);
    this.#crashes++;
    this.#streak = diedAt - this.#lastCrashAt < STREAK_MS ? this.#streak + 1 : 0;
    this.#lastCrashAt = diedAt;
    const delay = this.#streak === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** this.#streak);
    const refuse =
      crash.object && crash.outOfMemory
        ? [{ id: crash.object.id, message: refusalMessage(crash.object, memoryLimitMb) }]
        : [];
    const line = `terrarium: ${crash.what}; restarting it on the same project and data folder${delay ? ` in ${delay} ms (crash ${this.#crashes}, ${this.#streak + 1} in a row)` : ""}`;
    this.#log(line);
    this.#port.disconnected(new Error(line.replace(/^terrarium: /, "")));
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      // A failure to start again is reported through onGone (the promise is the first open's shape).
      this.#start(refuse, diedAt).catch(() => {});
    }, delay);
  }

  /**
   * Stops the engine within its grace period (its `Engine.close`), and
   * resolves with the line saying what was cut short, if anything. An
   * engine process that does not end within the grace period and 15 s more
   * is killed.
   */
  stop(graceMs: number): Promise<string | null> {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    const child = this.#child;
    if (!child) {
      this.#port.close(new Error("the project was closed"));
      rmSync(this.#crashDir, { recursive: true, force: true });
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const backstop = setTimeout(() => {
        this.#log(
          `terrarium: the engine process did not stop within the ${graceMs} ms grace period and ${STOP_BACKSTOP_MS} ms more; killing it`,
        );
        child.kill();
      }, graceMs + STOP_BACKSTOP_MS);
      backstop.unref();
      this.#stopping = (line) => {
        clearTimeout(backstop);
        resolve(line);
      };
      child.postMessage({ type: "stop", graceMs } satisfies ToEngine);
    });
  }
}
