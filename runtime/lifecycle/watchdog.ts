import type { WorkerHost } from "../host/worker-host.ts";
import { busy, type LifecycleOptions, type LiveObject } from "./live.ts";

const WATCHDOG_MS = 50;

/** What the CPU watchdog needs of the Lifecycle Manager. */
export interface WatchdogDeps {
  readonly live: ReadonlyMap<string, LiveObject>;
  /** Read at each look: the limit may change. */
  readonly options: Pick<LifecycleOptions, "cpuLimitMs">;
  /** Ends a spinning object's worker (its in-memory state goes, its storage stays). */
  lose(live: LiveObject, host: WorkerHost, cause: string): Promise<void>;
}

/**
 * The CPU watchdog, on real time: a worker whose event loop stays busy
 * past the CPU limit while it has a request in flight is spinning, and is
 * ended. Waiting on I/O does not count, as on Cloudflare.
 */
export class CpuWatchdog {
  readonly #deps: WatchdogDeps;
  readonly #timer: NodeJS.Timeout;

  constructor(deps: WatchdogDeps) {
    this.#deps = deps;
    this.#timer = setInterval(() => this.#look(), WATCHDOG_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #look(): void {
    const now = performance.now();
    const limit = this.#deps.options.cpuLimitMs;
    for (const live of this.#deps.live.values()) {
      const host = live.host;
      if (!host || !host.alive || !busy(live)) {
        live.busy = null;
        continue;
      }
      const active = host.cpuUsage();
      if (!live.busy) {
        live.busy = { at: now, active, run: 0 };
        continue;
      }
      const dt = now - live.busy.at;
      const busyFor = active - live.busy.active;
      live.busy = { at: now, active, run: busyFor >= dt * 0.8 ? live.busy.run + dt : 0 };
      if (live.busy.run >= limit) {
        live.killedFor = `exceeded its CPU time limit of ${limit} ms`;
        void this.#deps.lose(live, host, `reset: ${live.killedFor}`);
      }
    }
  }
}
