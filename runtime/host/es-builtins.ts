/**
 * The JavaScript built-ins workerd's V8 has and Node 20's does not, for the
 * code in object and entry threads. Libraries written for Workers use them
 * freely: PartyServer's in-memory rooms list connections with
 * `map.values().filter(...)`. Each is installed only where missing (a newer
 * Node has them natively), as a non-enumerable property like the real one.
 *
 * Installed: Iterator (with Iterator.from and the ES2025 iterator helpers
 * map, filter, take, drop, flatMap, reduce, toArray, forEach, some, every,
 * find), Promise.withResolvers, Promise.try, Object.groupBy, Map.groupBy,
 * Array.fromAsync, and the ES2025 Set methods.
 * TODO(surface): RegExp.escape, Float16Array, Uint8Array base64/hex,
 * Math.sumPrecise, Error.isError.
 */

type Fn = (...args: never[]) => unknown;

function define(target: object, name: string | symbol, value: unknown): void {
  if (name in target) return;
  Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
}

function callable<F extends Fn>(fn: unknown, what: string): F {
  if (typeof fn !== "function") throw new TypeError(`${what} is not a function`);
  return fn as F;
}

function count(limit: unknown, what: string): number {
  const n = Number(limit);
  if (Number.isNaN(n)) throw new RangeError(`${what} must be a number`);
  const whole = Math.trunc(n);
  if (whole < 0) throw new RangeError(`${what} must be positive`);
  return whole;
}

type Source = Iterator<unknown> & { return?: () => unknown };

/** The iterator a helper was called on, and its next method read once (as the spec does). */
function direct(it: unknown): { it: Source; next: () => IteratorResult<unknown> } {
  if (typeof it !== "object" || it === null) throw new TypeError("Iterator helper called on a non-object");
  const source = it as Source;
  const next = callable<() => IteratorResult<unknown>>(source.next, "next");
  return { it: source, next: () => next.call(source) };
}

function close(it: Source): void {
  it.return?.();
}

/**
 * A lazy helper: `step` maps one value of the source to the values to
 * yield; `enough(index)` ends the helper before the source is asked for
 * that value. The source is closed when the helper ends early.
 */
function* lazy(
  it: Source,
  next: () => IteratorResult<unknown>,
  step: (value: unknown, index: number) => Iterable<unknown>,
  enough: (index: number) => boolean = () => false,
): Generator<unknown, void, undefined> {
  let exhausted = false;
  try {
    for (let index = 0; !enough(index); index++) {
      const r = next();
      if (r.done) {
        exhausted = true;
        return;
      }
      yield* step(r.value, index);
    }
  } finally {
    if (!exhausted) close(it);
  }
}

/** An eager helper: runs `visit` on each value until it returns true (then closes the source). */
function eager(
  it: Source,
  next: () => IteratorResult<unknown>,
  visit: (value: unknown, index: number) => boolean,
): void {
  for (let index = 0; ; index++) {
    const r = next();
    if (r.done) return;
    let stop: boolean;
    try {
      stop = visit(r.value, index);
    } catch (e) {
      close(it);
      throw e;
    }
    if (stop) {
      close(it);
      return;
    }
  }
}

function installIterator(g: typeof globalThis): void {
  const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;
  const helpers: Record<string, (this: unknown, ...args: never[]) => unknown> = {
    map(this: unknown, fn: unknown) {
      const { it, next } = direct(this);
      const f = callable<(v: unknown, i: number) => unknown>(fn, "mapper");
      return lazy(it, next, (v, i) => [f(v, i)]);
    },
    filter(this: unknown, fn: unknown) {
      const { it, next } = direct(this);
      const f = callable<(v: unknown, i: number) => unknown>(fn, "predicate");
      return lazy(it, next, (v, i) => (f(v, i) ? [v] : []));
    },
    take(this: unknown, limit: unknown) {
      const { it, next } = direct(this);
      const n = count(limit, "take() limit");
      return lazy(
        it,
        next,
        (v) => [v],
        (i) => i >= n,
      );
    },
    drop(this: unknown, limit: unknown) {
      const { it, next } = direct(this);
      const n = count(limit, "drop() limit");
      return lazy(it, next, (v, i) => (i < n ? [] : [v]));
    },
    flatMap(this: unknown, fn: unknown) {
      const { it, next } = direct(this);
      const f = callable<(v: unknown, i: number) => unknown>(fn, "mapper");
      return lazy(it, next, (v, i) => {
        const inner = f(v, i);
        if (typeof inner !== "object" || inner === null)
          throw new TypeError("flatMap() mapper must return an iterator");
        const method = (inner as { [Symbol.iterator]?: unknown })[Symbol.iterator];
        return method === undefined ? fromIterator(inner) : (inner as Iterable<unknown>);
      });
    },
    reduce(this: unknown, fn: unknown, ...initial: unknown[]) {
      const { it, next } = direct(this);
      const f = callable<(acc: unknown, v: unknown, i: number) => unknown>(fn, "reducer");
      let acc: unknown;
      let start = 0;
      if (initial.length > 0) acc = initial[0];
      else {
        const first = next();
        if (first.done) throw new TypeError("Reduce of empty iterator with no initial value");
        acc = first.value;
        start = 1;
      }
      eager(it, next, (v, i) => {
        acc = f(acc, v, i + start);
        return false;
      });
      return acc;
    },
    toArray(this: unknown) {
      const { it, next } = direct(this);
      const out: unknown[] = [];
      eager(it, next, (v) => {
        out.push(v);
        return false;
      });
      return out;
    },
    forEach(this: unknown, fn: unknown) {
      const { it, next } = direct(this);
      const f = callable<(v: unknown, i: number) => unknown>(fn, "callback");
      eager(it, next, (v, i) => {
        f(v, i);
        return false;
      });
    },
    some(this: unknown, fn: unknown) {
      const { it, next } = direct(this);
      const f = callable<(v: unknown, i: number) => unknown>(fn, "predicate");
      let found = false;
      eager(it, next, (v, i) => (found = Boolean(f(v, i))));
      return found;
    },
    every(this: unknown, fn: unknown) {
      const { it, next } = direct(this);
      const f = callable<(v: unknown, i: number) => unknown>(fn, "predicate");
      let all = true;
      eager(it, next, (v, i) => !(all = Boolean(f(v, i))));
      return all;
    },
    find(this: unknown, fn: unknown) {
      const { it, next } = direct(this);
      const f = callable<(v: unknown, i: number) => unknown>(fn, "predicate");
      let found: unknown;
      eager(it, next, (v, i) => {
        if (!f(v, i)) return false;
        found = v;
        return true;
      });
      return found;
    },
  };
  for (const [name, fn] of Object.entries(helpers)) define(IteratorPrototype, name, fn);

  /** Wraps an object with a next() method so that it inherits the helpers. */
  function fromIterator(o: unknown): Iterable<unknown> & Iterator<unknown> {
    const { it, next } = direct(o);
    const wrapper = Object.create(IteratorPrototype) as Iterable<unknown> & Iterator<unknown>;
    Object.defineProperties(wrapper, {
      next: { value: next },
      return: { value: () => (it.return ? it.return() : { done: true, value: undefined }) },
    });
    return wrapper;
  }

  if (!("Iterator" in g)) {
    const Iterator = function Iterator(this: unknown): void {
      if (new.target === undefined || new.target === Iterator) {
        throw new TypeError("Iterator is an abstract class: extend it, or use Iterator.from()");
      }
    };
    Object.defineProperty(Iterator, "prototype", { value: IteratorPrototype });
    define(IteratorPrototype, "constructor", Iterator);
    define(IteratorPrototype, Symbol.toStringTag, "Iterator");
    define(Iterator, "from", (o: unknown) => {
      const method =
        typeof o === "string" || (typeof o === "object" && o !== null)
          ? (o as Iterable<unknown>)[Symbol.iterator]
          : undefined;
      const it: unknown =
        method === undefined ? o : callable<() => unknown>(method, "[Symbol.iterator]").call(o);
      if (typeof it === "object" && it !== null && Object.prototype.isPrototypeOf.call(IteratorPrototype, it))
        return it;
      return fromIterator(it);
    });
    define(g, "Iterator", Iterator);
  }
}

interface SetLike {
  size: number;
  has(v: unknown): boolean;
  keys(): Iterator<unknown>;
}

function setLike(other: unknown): SetLike {
  if (typeof other !== "object" || other === null) throw new TypeError("The argument must be set-like");
  const o = other as Partial<SetLike>;
  if (Number.isNaN(Number(o.size))) throw new TypeError("The argument's size must be a number");
  callable(o.has, "has");
  callable(o.keys, "keys");
  return o as SetLike;
}

function* keysOf(other: SetLike): Generator<unknown> {
  const it = other.keys();
  for (let r = it.next(); !r.done; r = it.next()) yield r.value;
}

function installSetMethods(g: typeof globalThis): void {
  const proto = g.Set.prototype as Set<unknown>;
  const methods: Record<string, (this: Set<unknown>, other: unknown) => unknown> = {
    union(other) {
      const o = setLike(other);
      const out = new Set(this);
      for (const v of keysOf(o)) out.add(v);
      return out;
    },
    intersection(other) {
      const o = setLike(other);
      const out = new Set<unknown>();
      if (this.size <= o.size) for (const v of this) if (o.has(v)) out.add(v);
      if (this.size > o.size) for (const v of keysOf(o)) if (this.has(v)) out.add(v);
      return out;
    },
    difference(other) {
      const o = setLike(other);
      const out = new Set(this);
      if (this.size <= o.size) for (const v of this) if (o.has(v)) out.delete(v);
      if (this.size > o.size) for (const v of keysOf(o)) out.delete(v);
      return out;
    },
    symmetricDifference(other) {
      const o = setLike(other);
      const out = new Set(this);
      for (const v of keysOf(o)) {
        if (this.has(v)) out.delete(v);
        else out.add(v);
      }
      return out;
    },
    isSubsetOf(other) {
      const o = setLike(other);
      if (this.size > o.size) return false;
      for (const v of this) if (!o.has(v)) return false;
      return true;
    },
    isSupersetOf(other) {
      const o = setLike(other);
      if (this.size < o.size) return false;
      for (const v of keysOf(o)) if (!this.has(v)) return false;
      return true;
    },
    isDisjointFrom(other) {
      const o = setLike(other);
      if (this.size <= o.size) {
        for (const v of this) if (o.has(v)) return false;
      } else for (const v of keysOf(o)) if (this.has(v)) return false;
      return true;
    },
  };
  for (const [name, fn] of Object.entries(methods)) define(proto, name, fn);
}

function groups<K>(items: Iterable<unknown>, fn: unknown, key: (k: unknown) => K): Map<K, unknown[]> {
  const f = callable<(v: unknown, i: number) => unknown>(fn, "callback");
  const out = new Map<K, unknown[]>();
  let i = 0;
  for (const v of items) {
    const k = key(f(v, i++));
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

function installStatics(g: typeof globalThis): void {
  define(g.Promise, "withResolvers", function withResolvers(this: PromiseConstructor) {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  });
  define(g.Promise, "try", function tryFn(this: PromiseConstructor, fn: unknown, ...args: unknown[]) {
    return new this((resolve) => resolve(callable<(...a: unknown[]) => unknown>(fn, "callback")(...args)));
  });
  define(g.Object, "groupBy", (items: Iterable<unknown>, fn: unknown) => {
    const out = Object.create(null) as Record<PropertyKey, unknown[]>;
    for (const [k, v] of groups(items, fn, (k) => (typeof k === "symbol" ? k : String(k)))) out[k] = v;
    return out;
  });
  define(g.Map, "groupBy", (items: Iterable<unknown>, fn: unknown) =>
    groups(items, fn, (k) => (Object.is(k, -0) ? 0 : k)),
  );
  define(
    g.Array,
    "fromAsync",
    async function fromAsync(items: unknown, mapFn?: unknown, thisArg?: unknown): Promise<unknown[]> {
      const map = mapFn === undefined ? null : callable<(v: unknown, i: number) => unknown>(mapFn, "mapFn");
      const out: unknown[] = [];
      const push = async (v: unknown): Promise<void> => {
        out.push(map ? await map.call(thisArg, v, out.length) : v);
      };
      if (items == null) throw new TypeError("Array.fromAsync requires an iterable or array-like");
      const source = items as Partial<AsyncIterable<unknown> & Iterable<unknown> & ArrayLike<unknown>>;
      if (source[Symbol.asyncIterator]) for await (const v of source as AsyncIterable<unknown>) await push(v);
      else if (source[Symbol.iterator]) for (const v of source as Iterable<unknown>) await push(await v);
      else for (let i = 0; i < Number(source.length ?? 0); i++) await push(await source[i]);
      return out;
    },
  );
}

/** Installs the missing built-ins on this thread's globals (idempotent). */
export function installEsBuiltins(g: typeof globalThis = globalThis): void {
  installIterator(g);
  installSetMethods(g);
  installStatics(g);
}
