import { ClassVersions, versionHash, type ClassVersion } from "../state/class-versions.ts";
import type { Clock } from "../shared/clock.ts";
import type { EngineEvents } from "../shared/events.ts";

/** A class's source as it is on disk now: the file that declares it and its text. */
export interface ClassSource {
  className: string;
  file: string;
  text: string;
}

/**
 * Which version of its class's code each object runs. The engine reads the
 * classes' sources before it moves to new code (`pending`), records them as
 * versions once the update went through (`commit`), or forgets them when it
 * was refused (`abandon`). An object that starts, or finishes Updating, runs
 * the version its class has at that moment; one that hibernates runs none.
 */
export class ClassHistory {
  readonly versions: ClassVersions;
  readonly #clock: Clock;
  /** className -> hash of the version running now. */
  readonly #current = new Map<string, string>();
  /** className -> hash of the version an update under way moves to. */
  #pending: Map<string, string> | null = null;
  /** objectId -> hash of the version it runs. */
  readonly #objects = new Map<string, string>();

  constructor(dataDir: string, clock: Clock, events: EngineEvents) {
    this.versions = new ClassVersions(dataDir);
    this.#clock = clock;
    events.on("transition", (t) => {
      if (t.to === "Active" && (t.from === "Initializing" || t.from === "Updating")) {
        const hash =
          (t.from === "Updating" ? this.#pending?.get(t.className) : undefined) ??
          this.#current.get(t.className);
        if (hash) this.#objects.set(t.objectId, hash);
      } else if (t.to === "Hibernating" || t.to === "Terminating") {
        this.#objects.delete(t.objectId);
      }
    });
  }

  /** Records the sources the engine starts with. */
  start(sources: ClassSource[]): void {
    for (const s of sources) this.#record(s, "start");
  }

  /** The sources an update is about to load (objects that finish Updating run these). */
  pending(sources: ClassSource[]): void {
    this.#pending = new Map(sources.map((s) => [s.className, versionHash(s.text)]));
  }

  /** The update went through: the pending sources are the classes' versions now. */
  commit(sources: ClassSource[], cause: ClassVersion["cause"]): void {
    for (const s of sources) this.#record(s, cause);
    this.#pending = null;
  }

  abandon(): void {
    this.#pending = null;
  }

  #record(s: ClassSource, cause: ClassVersion["cause"]): void {
    const v = this.versions.record(s.className, s.file, s.text, this.#clock.now(), cause);
    this.#current.set(s.className, v.hash);
  }

  /** The version a class runs now, or null when its source was not found. */
  current(className: string): string | null {
    return this.#current.get(className) ?? null;
  }

  /** The version a live object runs; null when it has no worker. */
  ofObject(objectId: string): string | null {
    return this.#objects.get(objectId) ?? null;
  }

  /** A class renamed: its history, and its objects' versions, follow it. */
  rename(from: string, to: string): void {
    this.versions.rename(from, to);
    const hash = this.#current.get(from);
    this.#current.delete(from);
    if (hash) this.#current.set(to, hash);
  }
}
