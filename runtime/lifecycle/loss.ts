import type * as Comlink from "comlink";
import type { WorkerApi } from "../host/protocol.ts";
import { WorkerExitedError, type WorkerHost } from "../host/worker-host.ts";
import type { ObjectRecord } from "../registry/registry.ts";
import { isReset } from "../shared/comlink-node.ts";
import type { Clock } from "../shared/clock.ts";
import type { LifecycleState } from "../shared/lifecycle-model.ts";
import { ObjectError, type LiveObject } from "./live.ts";
import type { ObjectLogs } from "./logs.ts";
import type { WorkerPool } from "./pool.ts";
import type { ObjectSockets } from "./sockets.ts";

/** More reasons than this kept at once: they are forgotten together. */
const LOST_WHY_MAX = 1_000;

/** What losing an object's worker needs of the Lifecycle Manager. */
export interface LossDeps {
  readonly live: Map<string, LiveObject>;
  readonly pool: Pick<WorkerPool, "forget">;
  readonly sockets: Pick<ObjectSockets, "closeObject">;
  readonly logs: Pick<ObjectLogs, "terrarium">;
  readonly clock: Clock;
  /** Whether Terrarium is stopping (a call cut short then answers 503). */
  closed(): boolean;
  walk(rec: ObjectRecord, to: LifecycleState, cause: string): void;
}

/**
 * An object's worker lost: it crashed, broke itself (a reset), spun past
 * its CPU limit or was aborted. Its in-memory state is gone, its storage
 * stays; it goes back to Hibernating and the next event starts it afresh.
 */
export class Loss {
  readonly #deps: LossDeps;
  /** Why objects' workers were lost lately, by object id: callers on direct lines ask (gateway.ts). */
  readonly why = new Map<string, { message: string; at: number }>();

  constructor(deps: LossDeps) {
    this.#deps = deps;
  }

  /** The object's worker `host` is gone (if it is still the object's): its sockets close with 1011. */
  async lose(live: LiveObject, host: WorkerHost, cause: string): Promise<void> {
    if (live.host !== host) return;
    const { className, id } = live.record;
    // For callers on direct lines, whose line just closes (Peers asks lostWhy).
    if (this.why.size > LOST_WHY_MAX) this.why.clear();
    this.why.set(id, {
      message: `Durable Object ${className} ${id} was ${cause}`,
      at: this.#deps.clock.now(),
    });
    live.host = null;
    live.generation++;
    live.inFlight = 0;
    live.streams = 0;
    live.heldStubs = 0;
    live.spanRequests = 0;
    this.#deps.pool.forget(host);
    live.record.lastError = cause;
    this.#deps.logs.terrarium(live.record, "error", cause);
    this.#deps.sockets.closeObject(live.record.id, 1011, "the Durable Object was reset", true);
    this.#deps.walk(live.record, "Hibernating", cause);
    this.#deps.live.delete(live.record.id);
    await host.stop();
  }

  /** Runs a call on the object's worker, turning a lost worker into a clear error. */
  async watch<T>(
    live: LiveObject,
    host: WorkerHost,
    fn: (api: Comlink.Remote<WorkerApi>) => Promise<T>,
  ): Promise<T> {
    try {
      return await host.call(fn);
    } catch (e) {
      if (isReset(e)) {
        // The object broke itself (blockConcurrencyWhile threw): the call fails
        // with the callback's error, and the next event gets a fresh object.
        const err = e as Error;
        await this.lose(live, host, `reset: ${err.name}: ${err.message}`);
        throw e;
      }
      if (e instanceof WorkerExitedError) {
        const exit = await host.exited;
        const why =
          live.killedFor ??
          (exit.error
            ? `${exit.error.name}: ${exit.error.message}`
            : exit.requested
              ? "it was stopped"
              : `exit code ${exit.code}`);
        throw new ObjectError(
          `Durable Object ${live.record.className} ${live.record.id} was reset: ${why}`,
          this.#deps.closed() ? 503 : 500,
        );
      }
      throw e;
    }
  }
}
