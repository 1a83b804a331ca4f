// What Electron main and the engine's utility process (engine-process.ts)
// say to each other over the utility process's message port, besides the
// control API's own bridge messages (runtime/api/port-api.ts).
import type { BridgeReply, BridgeRequest } from "../runtime/api/contract.ts";
import type { Refusal } from "../runtime/cli/supervised.ts";
import type { WorkerObject } from "../runtime/lifecycle/lifecycle.ts";

export type ToEngine =
  | {
      type: "open";
      projectDir: string;
      /** The app's root: the runtime's sources and the Electron build of better-sqlite3 are found from it. */
      appRoot: string;
      /** Where the process writes Node's report if it dies of a fatal error. */
      crashDir: string;
      /** The router's port: 8787 (any free one if taken) at first, the same one after a restart. */
      port: number | null;
      /** Objects whose next request is refused once (the one whose allocation ended the previous process). */
      refuse: Refusal[];
    }
  | { type: "stop"; graceMs: number }
  | BridgeRequest;

/** What the engine process reports once its project is open and its router listens. */
export interface EngineInfo {
  url: string;
  port: number;
  projectDir: string;
  dataDir: string;
  memoryLimitMb: number;
}

export type FromEngine =
  | ({ type: "ready" } & EngineInfo)
  /** The project could not be opened: the process exits after this. */
  | { type: "failed"; message: string }
  /** A worker thread was given an object to serve, or none (to name the object if the process dies). */
  | { type: "thread"; thread: number; object: WorkerObject | null }
  /** The stop is done (the line says what it cut short, if anything); the process exits after this. */
  | { type: "stopped"; line: string | null }
  | BridgeReply;
