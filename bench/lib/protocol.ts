import type { HistogramJson } from "../../runtime/load/histogram.ts";

/** What bench/run.ts asks of the load generator process (bench/load.ts). */
export type LoadJob =
  | {
      /** Closed model for a fixed time: `connections` loops, each sends its next request when the last completes. */
      kind: "duration";
      url: string;
      connections: number;
      durationMs: number;
      /** Object names; each request picks one uniformly at random. */
      names: string[];
    }
  | {
      /** Every name requested exactly once, by `connections` loops pulling from one queue (1 = sequential). */
      kind: "each";
      url: string;
      connections: number;
      names: string[];
      /** Each loop waits this long after a response before its next request (default 0: back to back). */
      gapMs?: number;
      /** A request with no answer after this long is an error (default 15,000 ms). */
      timeoutMs?: number;
    };

export interface LoadResult {
  /** Requests that completed with status 200. */
  ok: number;
  /** Requests that failed: a non-200 status, a network error or a timeout. */
  errors: number;
  errorSamples: string[];
  elapsedMs: number;
  latency: HistogramJson;
  /** CPU the load generator itself used during the job, as a share of one core. */
  loadgenCpuShare: number;
  /**
   * Names whose highest counter value seen so far differs from the number of
   * 200 responses it got since the server started (lost or doubled updates).
   */
  countMismatches: number;
}

export type LoadMessage = { type: "job"; id: number; job: LoadJob };
export type LoadReply =
  { type: "result"; id: number; result: LoadResult } | { type: "failed"; id: number; error: string };

/** The workerd server process (bench/workerd-server.ts). */
export interface WorkerdConfig {
  name: string;
  scriptPath: string;
  compatibilityDate: string;
  persistDir: string;
}

export type WorkerdReply = { type: "ready"; url: string } | { type: "failed"; error: string };
