import { EventEmitter } from "node:events";
import type { TransitionRecord, LogEntry } from "../registry/registry.ts";
import type { MockCall } from "../bindings/mock-fetch.ts";

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

export interface EngineEventMap {
  transition: TransitionRecord;
  log: LogEntry;
  request: RequestEvent;
  problem: { time: number; message: string; objectId: string | null };
  update: { ok: boolean; updated: number; error: string | null; time: number; durationMs: number };
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
