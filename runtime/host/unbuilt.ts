import { fetchClasses, whenFetchLoaded, type FetchClasses } from "./fetch-classes.ts";

/**
 * The mechanism shared by unbuilt requests (lazy-request.ts) and unbuilt
 * responses (response.ts): an object that stands for an undici Request or
 * Response not built yet. Its prototype chain holds the real prototype, so
 * `instanceof`, `Object.prototype.toString` and every method work; the
 * prototype made here adds getters for undici's slots (the symbols its
 * instances keep their state in), which build the real object from the
 * record on first use and make its slots the stand-in's own, after which it
 * is the real thing in every way. Some accessors are answered from the
 * record while it is unbuilt. Until undici is loaded (fetch-classes.ts) the
 * stand-ins cost nothing of it: their slots are defined once it loads.
 */

/** A header name the Headers constructor accepts (an HTTP token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value the Headers constructor would refuse or trim. */
const HEADER_VALUE_CHANGED = /[\0\r\n]|^[\t ]|[\t ]$/;

/** Whether the Headers constructor keeps this header as it is (neither refused nor trimmed). */
export function plainHeader(name: string, value: string): boolean {
  return HEADER_NAME.test(name) && !HEADER_VALUE_CHANGED.test(value);
}

/** An answer from the record that means: build it, then ask the real accessor. */
export const BUILD = Symbol("build");

export interface UnbuiltKind<R> {
  /** The prototype of the stand-ins. */
  proto: object;
  /** The records of stand-ins not built yet. */
  records: WeakMap<object, R>;
  /** Builds a stand-in in place (nothing if it is built already). */
  build(obj: object): void;
}

function accessor(proto: object, key: string): (this: unknown) => unknown {
  for (let p: object | null = proto; p; p = Object.getPrototypeOf(p) as object | null) {
    const get = Object.getOwnPropertyDescriptor(p, key)?.get;
    if (get) return get;
  }
  throw new Error(`${key} is not an accessor of this prototype in this Node version`);
}

export function unbuiltKind<R>(opts: {
  /**
   * The prototype the stand-ins extend (a placeholder for Request.prototype
   * until undici loads, or WorkersResponse.prototype); with `real`, what it
   * is replaced by once undici is loaded.
   */
  parent: object;
  /** Once undici is loaded: a real instance, to read undici's slots off, and the real parent if `parent` is a placeholder. */
  loaded(c: FetchClasses): { sample: object; parent?: object };
  /** The real object for a record. */
  make(record: R): object;
  /** Runs after a stand-in took on the real object's slots. */
  adopted?(obj: object, record: R): void;
  /** Accessors answered from the record while unbuilt (BUILD: build, then the real accessor). */
  answers: Record<string, (record: R) => unknown>;
  /** Methods of `parent` that need the object built before they run. */
  methods?: readonly string[];
}): UnbuiltKind<R> {
  const records = new WeakMap<object, R>();
  /** undici's slots, known once it is loaded (nothing can look for them before). */
  let slots: symbol[] = [];
  const own = (obj: object, slot: symbol, value: unknown): void => {
    Object.defineProperty(obj, slot, { value, writable: true, enumerable: true, configurable: true });
  };
  const build = (obj: object): void => {
    const record = records.get(obj);
    if (record === undefined) return;
    const real = opts.make(record) as Record<symbol, unknown>;
    for (const slot of slots) own(obj, slot, real[slot]);
    records.delete(obj);
    opts.adopted?.(obj, record);
  };
  const proto = Object.create(opts.parent) as object;
  let parent = opts.parent;
  whenFetchLoaded((c) => {
    const { sample, parent: real } = opts.loaded(c);
    if (real) {
      parent = real;
      Object.setPrototypeOf(proto, real);
    }
    slots = Object.getOwnPropertySymbols(sample);
    for (const slot of slots) {
      Object.defineProperty(proto, slot, {
        configurable: true,
        get(this: Record<symbol, unknown>): unknown {
          build(this);
          return Object.hasOwn(this, slot) ? this[slot] : undefined;
        },
        set(this: object, value: unknown): void {
          build(this);
          own(this, slot, value);
        },
      });
    }
  });
  for (const [key, answer] of Object.entries(opts.answers)) {
    /** The real accessor, looked up once built (undici is loaded by then). */
    let real: ((this: unknown) => unknown) | null = null;
    Object.defineProperty(proto, key, {
      configurable: true,
      get(this: object): unknown {
        const record = records.get(this);
        if (record !== undefined) {
          const value = answer(record);
          if (value !== BUILD) return value;
          build(this);
        }
        fetchClasses();
        real ??= accessor(parent, key);
        return real.call(this);
      },
    });
  }
  for (const key of opts.methods ?? []) {
    Object.defineProperty(proto, key, {
      configurable: true,
      writable: true,
      value(this: object, ...args: unknown[]): unknown {
        build(this);
        const method = (parent as Record<string, (...a: unknown[]) => unknown>)[key]!;
        return method.apply(this, args);
      },
    });
  }
  return { proto, records, build };
}
