import { basename } from "node:path";
import { setFlagsFromString } from "node:v8";
import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from "node:worker_threads";
import * as Comlink from "comlink";
import {
  cachedRemote,
  deserializeError,
  installErrorTransfer,
  nodeEndpoint,
} from "../shared/comlink-node.ts";
import { LeanClient } from "../shared/lean-rpc.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import { bodyTransfer } from "./http-serialize.ts";
import {
  isGatewayNotice,
  type GatewayApi,
  type SerializedRequest,
  type SerializedResponse,
  type WorkerApi,
} from "./protocol.ts";

installErrorTransfer();

/**
 * V8 settings for a process that runs many isolates, one per worker thread
 * (V8's flags are per process, so they are set before the first worker
 * starts). The memory reducer starts garbage collections when an isolate
 * looks idle, and with a hundred objects each serving a request now and
 * then, every isolate looks idle between requests: on this kind of machine
 * it cost ~20% of the CPU per request with 100 live objects. Objects that
 * stay idle hibernate and free their whole thread anyway.
 */
let tuned = false;
export function tuneV8ForWorkers(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString("--no-memory-reducer");
}

/**
 * The young generation of an object worker's heap. V8's default starts each
 * isolate with 1 MB semi-spaces (about 4 MB of new space, most of it touched);
 * capped at 2 MB in all, the semi-spaces start smaller. Measured with 200
 * live objects of bench/projects/counter (bench scenario 5, load average
 * ~25): 12.6 MiB of RSS per live object before, 11.7 after (a cap of 4 MB
 * saved nothing: 12.5). Entry workers keep V8's default: every request
 * passes through them, and a small young generation means more scavenges.
 * A caller's own resourceLimits win.
 */
export const OBJECT_WORKER_YOUNG_GENERATION_MB = 2;

/**
 * `TERRARIUM_WORKER_CPU_PROF=<dir>`: every worker thread writes a V8 CPU
 * profile (`.cpuprofile`) into `<dir>` as it ends, for profiling the engine
 * with its workers (bench/README.md); `node --cpu-prof` covers only the
 * main thread, since workers do not inherit its flags.
 */
function workerExecArgv(): string[] {
  const dir = process.env.TERRARIUM_WORKER_CPU_PROF;
  return dir ? ["--cpu-prof", "--cpu-prof-dir", dir] : [];
}

/** Object workers' entry files are built as object.worker-<hash>.cjs (runtime/build/bundler.ts). */
function isObjectWorkerFile(file: string): boolean {
  return basename(file).startsWith("object.worker");
}

/** A worker ended under a call: the caller sees this instead of a hang. */
export class WorkerExitedError extends Error {
  override name = "WorkerExitedError";
}

export interface WorkerExit {
  code: number;
  error: Error | null;
  /** True when the host ended the worker on purpose. */
  requested: boolean;
}

export interface WorkerHostOptions {
  file: string;
  gateway: GatewayApi;
  resourceLimits?: ResourceLimits;
  label: string;
}

/**
 * One worker thread, seen from the orchestrator: Comlink over its parent
 * port, the gateway the worker calls back on, explicit stop, and every
 * pending call rejected (never left hanging) if the thread dies.
 */
export class WorkerHost {
  readonly label: string;
  readonly api: Comlink.Remote<WorkerApi>;
  readonly exited: Promise<WorkerExit>;
  readonly #raw: Comlink.Remote<WorkerApi>;
  #worker: Worker;
  #gatewayPort: import("node:worker_threads").MessagePort;
  #alive = true;
  #requested = false;
  #lastError: Error | null = null;
  /** The error that broke the worker's object (a failed blockConcurrencyWhile), marked as a reset. */
  #broken: Error | null = null;

  constructor(opts: WorkerHostOptions) {
    tuneV8ForWorkers();
    this.label = opts.label;
    const channel = new MessageChannel();
    this.#gatewayPort = channel.port1;
    Comlink.expose(opts.gateway, nodeEndpoint(channel.port1));
    const gateway = opts.gateway;
    channel.port1.on("message", (m: unknown) => {
      if (!isGatewayNotice(m)) return;
      if (m.notice === "log") gateway.log(m.records);
      else if (m.notice === "direct") gateway.direct(m.reports);
      else if (m.notice === "rows") gateway.rows(m.objectId, m.read, m.written);
      else if (m.notice === "streams") gateway.streams(m.open);
      else if (m.notice === "stubs") gateway.heldStubs(m.open);
      else {
        this.#broken ??= deserializeError(m.error);
        gateway.broken(this.#broken);
      }
    });
    this.#worker = new Worker(opts.file, {
      workerData: { gatewayPort: channel.port2 },
      transferList: [channel.port2],
      resourceLimits: {
        ...(isObjectWorkerFile(opts.file)
          ? { maxYoungGenerationSizeMb: OBJECT_WORKER_YOUNG_GENERATION_MB }
          : {}),
        ...opts.resourceLimits,
      },
      // NOTE: not inherited: under tsx (the CLI, tests) every worker would
      // otherwise boot the TypeScript loader, ~200 ms per thread. Worker
      // entries are prebuilt JavaScript.
      execArgv: workerExecArgv(),
      stdout: false,
      stderr: false,
    });
    this.#worker.on("error", (e) => {
      this.#lastError = e;
    });
    this.exited = new Promise<WorkerExit>((resolve) => {
      this.#worker.once("exit", (code) => {
        this.#alive = false;
        this.#gatewayPort.close();
        const e = this.#lastError;
        // Calls on an object that broke itself fail with what broke it,
        // whether their answers or the exit came first.
        const err =
          this.#broken ??
          new WorkerExitedError(
            `${this.label}: worker ended (${e ? `${e.name}: ${e.message}` : `exit code ${code}`})`,
          );
        for (const reject of this.#pending) reject(err);
        this.#pending.clear();
        resolve({ code, error: this.#lastError, requested: this.#requested });
      });
    });
    this.#raw = Comlink.wrap<WorkerApi>(nodeEndpoint(this.#worker));
    this.api = cachedRemote(this.#raw);
    // Beside Comlink on the same port (each ignores the other's messages).
    this.#lean = new LeanClient(this.#worker as unknown as MessagePort);
  }

  readonly #lean: LeanClient;

  /** Sends a request to the worker's fetch handler on the lean line (the entry Worker's hot path). */
  fetch(req: SerializedRequest, trace?: TraceContext): Promise<SerializedResponse> {
    const args = trace ? [req, trace] : [req];
    return this.call(() => this.#lean.call<SerializedResponse>("fetch", args, bodyTransfer(req)));
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** The worker's object broke itself (a failed blockConcurrencyWhile, ctx.abort()): never reuse it. */
  get broken(): boolean {
    return this.#broken !== null;
  }

  get threadId(): number {
    return this.#worker.threadId;
  }

  /** Runs a call on the worker; rejects with WorkerExitedError if the thread ends first. */
  call<T>(fn: (api: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T> {
    if (!this.#alive) return Promise.reject(new WorkerExitedError(`${this.label}: worker is not running`));
    // NOTE: not Promise.race with `exited`: a reaction on a promise that lives
    // as long as the worker would keep every call's result alive.
    return new Promise<T>((resolve, reject) => {
      this.#pending.add(reject);
      fn(this.api).then(
        (v) => {
          this.#pending.delete(reject);
          resolve(v);
        },
        (e: unknown) => {
          this.#pending.delete(reject);
          reject(e as Error);
        },
      );
    });
  }

  readonly #pending = new Set<(e: Error) => void>();

  cpuUsage(): number {
    return this.#worker.performance.eventLoopUtilization().active;
  }

  #stopping: Promise<void> | null = null;

  stop(): Promise<void> {
    if (!this.#alive) return Promise.resolve();
    this.#stopping ??= (async () => {
      this.#requested = true;
      // Direct lines from other workers close with a goodbye, so calls that
      // were on their way retry through the orchestrator instead of failing.
      await Promise.race([this.api.closePeers().catch(() => {}), new Promise((r) => setTimeout(r, 200))]);
      this.#raw[Comlink.releaseProxy]();
      await this.#worker.terminate();
      await this.exited;
    })();
    return this.#stopping;
  }

  /**
   * Ends the thread now, whatever it is doing: no call into it first (a
   * thread spinning in a loop never answers one; `terminate` stops it
   * anyway). Its SQLite files are closed as the thread ends (better-sqlite3
   * closes every open database when its environment is torn down), so only
   * a transaction left open, never acknowledged, is rolled back.
   */
  kill(): Promise<void> {
    if (!this.#alive) return Promise.resolve();
    this.#stopping ??= (async () => {
      this.#requested = true;
      this.#raw[Comlink.releaseProxy]();
      await this.#worker.terminate();
      await this.exited;
    })();
    return this.#stopping;
  }
}
