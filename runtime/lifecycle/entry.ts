import * as Comlink from "comlink";
import { stubPorts, withStubPorts, type RpcArgs } from "../shared/rpc-wire.ts";
import { bodyTransfer, pathOf } from "../host/http-serialize.ts";
import type { SerializedRequest, SerializedResponse, WorkerApi } from "../host/protocol.ts";
import type { WorkerHost } from "../host/worker-host.ts";
import type { CodeVersion, LifecycleOptions, ModuleLoadError } from "./live.ts";
import type { WorkerPool } from "./pool.ts";
import type { ObjectSockets } from "./sockets.ts";
import { bounded } from "./timing.ts";
import type { TraceContext } from "../shared/trace-context.ts";
import type { TraceStore } from "../state/traces.ts";
import { endAnswered } from "./tracing.ts";

/** How much longer than an object the entry Worker may take to answer (see fetch). */
const ENTRY_ANSWER_GRACE_MS = 1_000;

/** What the entry workers need of the Lifecycle Manager. */
export interface EntryDeps {
  readonly pool: Pick<WorkerPool, "spawnLoaded">;
  readonly options: Pick<LifecycleOptions, "answerTimeoutMs" | "entryWorkers">;
  readonly sockets: Pick<ObjectSockets, "claim">;
  code(): CodeVersion;
  /** Why the current code does not load: every call fails with it. */
  loadFailure(): ModuleLoadError | null;
  error(message: string): void;
}

/**
 * The Worker's entry workers (`entryWorkers` of them, stateless): requests
 * the router does not route, queue batches, Workflow runs, and calls on
 * this Worker's service bindings, taken in turn; one that ended is started
 * again when its turn comes.
 */
export class EntryWorkers {
  readonly #deps: EntryDeps;
  #hosts: WorkerHost[] = [];
  #next = 0;

  constructor(deps: EntryDeps) {
    this.#deps = deps;
  }

  /**
   * Starts the entry workers. Code whose main module throws while loading
   * does not stop the start: every call fails with that error until new
   * code loads.
   */
  async start(): Promise<void> {
    const n = Math.max(1, this.#deps.options.entryWorkers);
    const code = this.#deps.code();
    const started = await Promise.allSettled(
      Array.from({ length: n }, () => this.#deps.pool.spawnLoaded(code.entryFile, "entry")),
    );
    this.#hosts = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = started.find((r) => r.status === "rejected");
    if (failed && !this.#deps.loadFailure()) throw failed.reason;
  }

  /** New code: `first` (loaded with it) and as many more as there should be; the old ones end a little later. */
  async replace(first: WorkerHost, code: CodeVersion): Promise<void> {
    const old = this.#hosts;
    this.#hosts = [first];
    while (this.#hosts.length < Math.max(1, this.#deps.options.entryWorkers)) {
      this.#hosts.push(await this.#deps.pool.spawnLoaded(code.entryFile, "entry", code));
    }
    // Calls already on the old entry workers get a moment to finish.
    setTimeout(() => old.forEach((h) => void h.stop()), 5_000).unref();
  }

  /** The names the project's main module exports as functions or classes; null while it does not load. */
  async exportedClasses(): Promise<string[] | null> {
    const host = this.#hosts[0];
    if (!host) return null;
    const spec = this.#deps.code().spec;
    return (await host.call((api) => api.load(spec))).classes;
  }

  /** Runs `fn` on an entry worker (a queue batch, a Workflow instance's run), starting one if none is alive. */
  async call<T>(fn: (api: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T> {
    const failure = this.#deps.loadFailure();
    if (failure) throw failure;
    return (await this.#host()).call(fn);
  }

  /** The next entry worker, restarted if it ended. */
  async #host(): Promise<WorkerHost> {
    let host = this.#hosts[this.#next++ % this.#hosts.length];
    if (!host || !host.alive) {
      const i = host ? this.#hosts.indexOf(host) : 0;
      host = await this.#deps.pool.spawnLoaded(this.#deps.code().entryFile, "entry");
      this.#hosts[i] = host;
    }
    return host;
  }

  /**
   * A service binding's call into this Worker: its `entrypoint` export's
   * fetch() or an RPC method, on an entry worker, bounded as a request to
   * the entry Worker is.
   */
  async entrypointCall(
    entrypoint: string | null,
    call: { fetch: SerializedRequest } | { method: string; args: RpcArgs; kind: "call" | "get" },
  ): Promise<unknown> {
    const failure = this.#deps.loadFailure();
    if (failure) throw failure;
    const entry = await this.#host();
    const what = "fetch" in call ? `${call.fetch.method} ${pathOf(call.fetch.url)}` : `rpc ${call.method}()`;
    // A body, or the ports of the stubs the arguments hold (runtime/shared/rpc-wire.ts), move on.
    const transfer = "fetch" in call ? bodyTransfer(call.fetch) : stubPorts(call.args);
    const answered = await bounded(
      entry.call((api) => api.entrypoint(entrypoint, Comlink.transfer(call, transfer))),
      this.#deps.options.answerTimeoutMs + ENTRY_ANSWER_GRACE_MS,
      () => `The Worker ${this.#deps.code().spec.workerName} gave no answer to ${what}`,
    );
    if (answered.late) {
      this.#deps.error(answered.late.message);
      throw answered.late;
    }
    if (!answered.ok) throw answered.error;
    // A streamed body moves on to the calling worker (http-wire.ts `stream`).
    if ("fetch" in call) {
      const res = answered.value as SerializedResponse;
      return Comlink.transfer(res, bodyTransfer(res));
    }
    return withStubPorts(answered.value);
  }

  /** Sends a request to the entry Worker. */
  async fetch(
    req: SerializedRequest,
    traced?: { tracer: TraceStore; parent: TraceContext },
  ): Promise<SerializedResponse> {
    const failure = this.#deps.loadFailure();
    if (failure) throw failure;
    const entry = await this.#host();
    const cause = `${req.method} ${pathOf(req.url)}`;
    const span = traced ? traced.tracer.begin(traced.parent, "entry", { name: cause }) : null;
    // The entry's bound is a little longer than an object's, so that when it
    // waits on an object that hangs, the object's own reason reaches the client.
    const answered = await bounded(
      entry.fetch(req, span?.ctx),
      this.#deps.options.answerTimeoutMs + ENTRY_ANSWER_GRACE_MS,
      () => `The entry Worker gave no answer to ${cause}`,
    );
    if (span && traced) endAnswered(traced.tracer, span, answered);
    if (answered.late) {
      this.#deps.error(answered.late.message);
      throw answered.late;
    }
    if (!answered.ok) throw answered.error;
    const res = answered.value;
    if (res.webSocket) this.#deps.sockets.claim(res.webSocket, { kind: "entry", host: entry });
    return res;
  }
}
