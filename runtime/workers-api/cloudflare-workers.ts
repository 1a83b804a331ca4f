import { terrariumHost, type TerrariumHost } from "./host.ts";
import { unavailable } from "./unavailable.ts";

/**
 * Terrarium's `cloudflare:workers` module. Object and entry code imports it
 * exactly as on Cloudflare; the bundler resolves the specifier here. It is
 * bundled into the user's code, so it must stay free of Node APIs.
 */

/**
 * A live view of an object the host supplies (the env, the exports): reads
 * go to whatever `withEnv`/`withExports` put in effect for the running call.
 */
function liveView(pick: (scope: ReturnType<TerrariumHost["current"]>) => object): Record<string, unknown> {
  const target = (): Record<PropertyKey, unknown> => {
    const host = terrariumHost();
    return (host ? pick(host.current()) : {}) as Record<PropertyKey, unknown>;
  };
  return new Proxy({} as Record<string, unknown>, {
    get: (_t, key) => target()[key],
    has: (_t, key) => key in target(),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(target(), key);
      return d ? { ...d, configurable: true } : undefined;
    },
    set: (_t, key, value) => {
      target()[key] = value;
      return true;
    },
  });
}

/** The project's `env`, also importable at module scope as on Cloudflare. */
export const env: Record<string, unknown> = liveView((s) => s.env);

/** The Worker's own exports as bindings: `exports.MyObject` is the namespace of a Durable Object class. */
export const exports: Record<string, unknown> = liveView((s) => s.exports);

/** Extends the running event's lifetime until `promise` settles (ctx.waitUntil). */
export function waitUntil(promise: Promise<unknown>): void {
  const host = terrariumHost();
  if (!host) throw new Error("waitUntil() from cloudflare:workers can only be called while a Worker runs");
  host.waitUntil(promise);
}

function runWith<T>(env: unknown, exp: unknown, fn: () => T): T {
  const host = terrariumHost();
  if (!host) return fn();
  const now = host.current();
  return host.runWith(
    {
      env: (env ?? now.env) as Record<string, unknown>,
      exports: (exp ?? now.exports) as Record<string, unknown>,
    },
    fn,
  );
}

/** Runs `fn` with `env` (the import) reading `newEnv`, including in what `fn` starts asynchronously. */
export function withEnv<T>(newEnv: unknown, fn: () => T): T {
  return runWith(newEnv, undefined, fn);
}

export function withExports<T>(newExports: unknown, fn: () => T): T {
  return runWith(undefined, newExports, fn);
}

export function withEnvAndExports<T>(newEnv: unknown, newExports: unknown, fn: () => T): T {
  return runWith(newEnv, newExports, fn);
}

/** `cache.purge()` needs a zone on Cloudflare's network. */
export const cache = {
  async purge(_options?: unknown): Promise<never> {
    unavailable("cache.purge() from cloudflare:workers");
  },
};

class Span {
  get isTraced(): boolean {
    return false;
  }
  setAttribute(_key: string, _value?: boolean | number | string): void {}
}

/** Tracing: spans run their callback and record nothing (there is no trace to send them to). */
export const tracing = {
  Span,
  enterSpan<T, A extends unknown[]>(_name: string, callback: (span: Span, ...args: A) => T, ...args: A): T {
    return callback(new Span(), ...args);
  },
};

export class DurableObject<Env = unknown> {
  protected ctx: unknown;
  protected env: Env;
  constructor(ctx: unknown, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class WorkerEntrypoint<Env = unknown> {
  protected ctx: unknown;
  protected env: Env;
  constructor(ctx: unknown, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class WorkflowEntrypoint<Env = unknown> {
  protected ctx: unknown;
  protected env: Env;
  constructor(ctx: unknown, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }
}

/**
 * Instances of a subclass cross RPC by reference: the receiver gets a stub
 * whose calls come back here (runtime/host/rpc-stubs.ts finds them by this mark).
 */
export class RpcTarget {}
Object.defineProperty(RpcTarget.prototype, Symbol.for("terrarium.RpcTarget"), { value: true });

const LOCAL_STUB_TARGET = Symbol.for("terrarium.RpcStub.target");

/**
 * `new RpcStub(target)`: a stub for a local RpcTarget (or function). Calls
 * and property reads on it return promises, as on a remote stub; `dup()`
 * gives another stub and disposing one does nothing.
 */
export class RpcStub {
  constructor(target: unknown) {
    if ((typeof target !== "object" || target === null) && typeof target !== "function")
      throw new TypeError("RpcStub takes an RpcTarget, a function or a plain object.");
    const t = target as Record<PropertyKey, unknown>;
    return new Proxy(this, {
      get(self, key) {
        if (key === "dup") return () => new RpcStub(target);
        // Passed over RPC, the stub crosses as a stub of its target.
        if (key === LOCAL_STUB_TARGET) return target;
        if (key === Symbol.dispose || key === "then") return undefined;
        if (typeof key === "symbol") return Reflect.get(self, key);
        const value = t[key];
        if (typeof value === "function")
          return (...args: unknown[]) =>
            Promise.resolve().then(() => (value as (...a: unknown[]) => unknown).apply(t, args));
        return Promise.resolve(value);
      },
    });
  }
}

function illegalConstructor(): never {
  throw new TypeError("Illegal constructor");
}

/** The promise an RPC call returns; only Terrarium's RPC makes them. */
export class RpcPromise {
  constructor() {
    illegalConstructor();
  }
}

/** A property of an RPC stub read as a promise; only Terrarium's RPC makes them. */
export class RpcProperty {
  constructor() {
    illegalConstructor();
  }
}

/**
 * workerd's class of a service binding's stub. NOTE: Terrarium's `env.SVC`
 * (runtime/host/service-binding.ts) is not an instance of it.
 */
export class ServiceStub {
  constructor() {
    illegalConstructor();
  }
}
