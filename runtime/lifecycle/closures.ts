import { ObjectError } from "../shared/errors.ts";
import { busy, type LiveObject } from "./live.ts";
import type { ObjectSockets } from "./sockets.ts";

/** What closing a class or an object needs of the Lifecycle Manager. */
export interface ClosureHub {
  readonly live: ReadonlyMap<string, LiveObject>;
  readonly sockets: Pick<ObjectSockets, "closeObject">;
  /** Ends an object's worker and leaves it Hibernating; false when it could not now. */
  hibernate(id: string, cause: string): Promise<boolean>;
}

/**
 * Classes and objects closed while they change (a class renamed or
 * deleted, an object's storage restored or reset): starting one is refused
 * with the reason, and the live ones hibernate once what they have in
 * flight is done.
 */
export class Closures {
  readonly #hub: ClosureHub;

  constructor(hub: ClosureHub) {
    this.#hub = hub;
  }

  /** Why an object of `className` with `id` may not start now, or undefined. */
  refusal(className: string, id: string): string | undefined {
    return this.#closedClasses.get(className) ?? this.#closedObjects.get(id);
  }

  /** Classes whose objects may not start while the class itself changes: class -> why. */
  readonly #closedClasses = new Map<string, string>();

  /**
   * Stops a class's objects before a change to the class itself (a rename,
   * a deletion): starting one is refused with a 503 saying `reason`, and
   * every live object of the class hibernates once what it has in flight
   * is done (its WebSockets are closed with 1012, as for a restart).
   * Resolves with the function that opens the class again; rejects, with
   * the class open, if objects stay busy past `timeoutMs`.
   */
  async closeClass(className: string, reason: string, timeoutMs = 10_000): Promise<() => void> {
    this.#closedClasses.set(className, reason);
    const reopen = (): void => {
      this.#closedClasses.delete(className);
    };
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const live = [...this.#hub.live.values()].filter(
          (l) => l.record.className === className && (l.host || l.starting),
        );
        if (live.length === 0) return reopen;
        if (Date.now() > deadline) {
          throw new ObjectError(`${live.length} object(s) of ${className} stayed busy; try again`, 409);
        }
        for (const l of live) {
          if (!l.host || l.starting || busy(l) || l.updating) continue;
          this.#hub.sockets.closeObject(l.record.id, 1012, reason);
          await this.#hub.hibernate(l.record.id, reason);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    } catch (e) {
      reopen();
      throw e;
    }
  }

  /** Objects that may not start while their storage is replaced (a restore, a reset): id -> why. */
  readonly #closedObjects = new Map<string, string>();

  /**
   * Stops one object before its storage is replaced: starting it is
   * refused with a 503 saying `reason`, and once what it has in flight is
   * done it hibernates (its WebSockets are closed with 1012, as for a
   * restart). Resolves with the function that opens it again; rejects, with
   * the object open, if it stays busy past `timeoutMs`.
   */
  async closeObject(id: string, reason: string, timeoutMs = 10_000): Promise<() => void> {
    this.#closedObjects.set(id, reason);
    const reopen = (): void => {
      this.#closedObjects.delete(id);
    };
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const l = this.#hub.live.get(id);
        if (!l || (!l.host && !l.starting)) return reopen;
        if (Date.now() > deadline) throw new ObjectError(`the object stayed busy; try again`, 409);
        if (l.host && !l.starting && !busy(l) && !l.updating) {
          this.#hub.sockets.closeObject(id, 1012, reason);
          await this.#hub.hibernate(id, reason);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    } catch (e) {
      reopen();
      throw e;
    }
  }
}
