import { EventEmitter } from "node:events";
import type { LifecycleState } from "./lifecycle-model.ts";

export interface TransitionRecord {
  seq: number;
  time: number;
  objectId: string;
  className: string;
  from: LifecycleState | null;
  to: LifecycleState;
  cause: string;
  /** Another Worker's object (-c): that Worker's name (its registry numbers `seq`); absent: the project's own. */
  worker?: string;
}

export interface LogEntry {
  seq: number;
  time: number;
  level: string;
  source: string;
  objectId: string | null;
  message: string;
}

/** One call a mock answered, as the worker reports it to the orchestrator. */
export interface MockCall {
  /** The matching mock's `url` prefix. */
  mock: string;
  method: string;
  url: string;
  status: number;
  latencyMs: number;
  /** The answer was an error injected at the mock's error rate, not its canned response. */
  injectedError: boolean;
  /** When the call was made (ms since the epoch). */
  time: number;
}

/** A call a mock endpoint answered, with the object (or the entry Worker) that made it. */
export interface MockCallEvent extends MockCall {
  objectId: string | null;
  className: string | null;
}

export interface RequestEvent {
  time: number;
  objectId: string | null;
  className: string | null;
  kind: "fetch" | "rpc" | "alarm" | "event" | "entry";
  method: string;
  durationMs: number;
  ok: boolean;
  error?: string;
}

/** A reload or code update, as it ended (the "update" event; the engine's reload answers it too). */
export interface UpdateResult {
  ok: boolean;
  /** Live objects moved to the new code. */
  updated: number;
  error: string | null;
  /** Where a refused build or config points (esbuild's file, project-relative, line and 1-based column), when it does. */
  location?: { file: string; line: number; column: number } | null;
  time: number;
  durationMs: number;
}

export interface EngineEventMap {
  transition: TransitionRecord;
  log: LogEntry;
  request: RequestEvent;
  problem: { time: number; message: string; objectId: string | null };
  update: UpdateResult;
  mock: MockCallEvent;
}

/** A typed emitter for what the engine streams to the CLI and the UI. */
export class EngineEvents {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  on<K extends keyof EngineEventMap>(event: K, fn: (e: EngineEventMap[K]) => void): () => void {
    this.#emitter.on(event, fn);
    return () => this.#emitter.off(event, fn);
  }

  listening(event: keyof EngineEventMap): boolean {
    return this.#emitter.listenerCount(event) > 0;
  }

  emit<K extends keyof EngineEventMap>(event: K, e: EngineEventMap[K]): void {
    if (this.#emitter.listenerCount(event) > 0) this.#emitter.emit(event, e);
  }
}
