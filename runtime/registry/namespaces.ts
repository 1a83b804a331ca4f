import { ObjectError } from "../shared/errors.ts";
import { idFromName, idFromString, namespaceKey, type NamespaceKey } from "../shared/ids.ts";

/** Ids checked against their namespace, kept until this many (then forgotten at once). */
const VALID_IDS_MAX = 50_000;

/** An object as an event reaches it: its class and its id (64 hex digits, checked). */
export interface ObjectAddress {
  className: string;
  id: string;
}

/**
 * The Service Registry's map from a Worker's Durable Object bindings to its
 * classes, and from names and id strings to object ids in each class's
 * namespace (workerd's: shared/ids.ts). One version of the code has one of
 * these; new code makes a new one (its bindings may differ).
 */
export class Namespaces {
  readonly #workerName: string;
  readonly #bindings: ReadonlyMap<string, string>;
  readonly #keys = new Map<string, NamespaceKey>();
  readonly #validIds = new Map<string, string>();

  /** `bindings`: binding -> class, the Worker's own Durable Object bindings. */
  constructor(workerName: string, bindings: ReadonlyMap<string, string>) {
    this.#workerName = workerName;
    this.#bindings = bindings;
  }

  /** The class a binding names; an unknown binding is an error of the caller's code (500). */
  classForBinding(binding: string): string {
    const c = this.#bindings.get(binding);
    if (!c) throw new ObjectError(`unknown Durable Object binding ${binding}`, 500);
    return c;
  }

  /** A class's namespace key (computed once: it is a SHA-256). */
  key(className: string): NamespaceKey {
    let k = this.#keys.get(className);
    if (!k) {
      k = namespaceKey(this.#workerName, className);
      this.#keys.set(className, k);
    }
    return k;
  }

  /** The object `env.<binding>.idFromName(name)` names. */
  byName(binding: string, name: string): ObjectAddress {
    const className = this.classForBinding(binding);
    return { className, id: idFromName(this.key(className), name) };
  }

  /**
   * The object an id string names through `binding`: the id must be one of
   * the class's namespace (as `idFromString` checks it), else a 400.
   */
  byId(binding: string, id: string): ObjectAddress {
    const className = this.classForBinding(binding);
    const cacheKey = `${className}:${id}`;
    const known = this.#validIds.get(cacheKey);
    if (known) return { className, id: known };
    try {
      const valid = idFromString(this.key(className), id);
      if (this.#validIds.size >= VALID_IDS_MAX) this.#validIds.clear();
      this.#validIds.set(cacheKey, valid);
      return { className, id: valid };
    } catch (e) {
      throw new ObjectError((e as Error).message, 400);
    }
  }
}
