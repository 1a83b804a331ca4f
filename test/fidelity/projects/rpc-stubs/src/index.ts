import { DurableObject, RpcTarget, WorkerEntrypoint } from "cloudflare:workers";

export interface Env {
  TALLY: DurableObjectNamespace<Tally>;
  SELF: Service<Helper>;
}

class BaseCounter extends RpcTarget {
  describe(): string {
    return "a counter";
  }
}

class Counter extends BaseCounter {
  #value = 0;
  constructor(
    readonly label: string,
    private readonly onDispose?: () => void,
  ) {
    super();
  }
  add(n: number): number {
    this.#value += n;
    return this.#value;
  }
  get value(): number {
    return this.#value;
  }
  // An RpcTarget returned from an RpcTarget.
  child(label: string): Counter {
    return new Counter(`${this.label}/${label}`);
  }
  fail(): never {
    throw new RangeError(`counter ${this.label} refuses`);
  }
  [Symbol.dispose](): void {
    this.onDispose?.();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function settle(call: () => unknown): Promise<unknown> {
  try {
    return { ok: await call() };
  } catch (error) {
    return { error: errorText(error) };
  }
}

export class Tally extends DurableObject<Env> {
  total = 0;
  disposed = 0;
  stashed: (() => Promise<unknown>) | null = null;
  kept: (() => Promise<unknown>) | null = null;

  // Returns a function; the caller gets a stub that calls back into this object.
  adder(step: number): (times: number) => number {
    return (times: number) => {
      this.total += step * times;
      return this.total;
    };
  }

  // Calls a function the caller passed in.
  async applyTwice(fn: (n: number) => Promise<number>, start: number): Promise<number> {
    return fn(await fn(start));
  }

  counter(label: string): Counter {
    return new Counter(label, () => this.disposed++);
  }

  disposedCount(): number {
    return this.disposed;
  }

  // Functions nested in a returned object, array and Map.
  toolkit(): {
    name: string;
    inc: (n: number) => number;
    nested: { read: () => number; list: (() => string)[] };
    byName: Map<string, (n: number) => number>;
  } {
    return {
      name: "toolkit",
      inc: (n: number) => (this.total += n),
      nested: { read: () => this.total, list: [() => "first", () => "second"] },
      byName: new Map([["double", (n: number) => n * 2]]),
    };
  }

  // Functions nested in an argument.
  async useOptions(options: { prefix: string; format: (s: string) => Promise<string> }): Promise<string> {
    return `${options.prefix}:${await options.format("x")}`;
  }

  // A stub received from the caller, used here (the counter lives in another object).
  async useCounter(
    counter: {
      add(n: number): Promise<number>;
      readonly value: Promise<number>;
      describe(): Promise<string>;
    },
    n: number,
  ): Promise<unknown> {
    const after = await counter.add(n);
    return { after, value: await counter.value, describe: await counter.describe() };
  }

  // A callback's error reaches the object that called it.
  async callFailing(fn: () => Promise<unknown>): Promise<unknown> {
    try {
      return { ok: await fn() };
    } catch (error) {
      return { error: errorText(error) };
    }
  }

  // A callback returning rich values.
  async callRich(fn: () => Promise<unknown>): Promise<unknown> {
    const value = (await fn()) as { when: Date; set: Set<number>; map: Map<string, number> };
    return { when: value.when.toISOString(), set: [...value.set], map: [...value.map] };
  }

  // Keeps a callback past the call (workerd disposes it when the call returns), and one dup().
  stash(fn: () => Promise<unknown>): string {
    this.stashed = fn;
    // On the receiving side a function argument is a stub, with dup().
    this.kept = (fn as unknown as { dup(): () => Promise<unknown> }).dup();
    return "stashed";
  }

  async callStashed(): Promise<unknown> {
    return {
      stashed: await settle(() => this.stashed?.()),
      kept: await settle(() => this.kept?.()),
    };
  }

  // A function that returns functions, and one that takes them.
  factory(): (a: number) => (b: number) => number {
    return (a) => (b) => a * 100 + b;
  }
  applier(): (fn: (n: number) => Promise<number>) => Promise<number> {
    return async (fn) => (await fn(1)) + (await fn(2));
  }

  // Calls a Durable Object stub it was given.
  async callOther(other: DurableObjectStub<Tally>): Promise<unknown> {
    return { count: await other.disposedCount() };
  }

  get fieldLike(): string {
    return "from a getter";
  }

  // A stub an object got from another object, kept in a field across requests.
  heldCounter: { add(n: number): Promise<number> } | null = null;
  async hold(owner: string): Promise<number> {
    this.heldCounter = await this.env.TALLY.getByName(owner).counter("held");
    return this.heldCounter.add(1);
  }
  async useHeld(): Promise<unknown> {
    return settle(() => this.heldCounter!.add(1));
  }
  // Waits (awake, in a request) past the time the stub's owner, quiet meanwhile,
  // would hibernate (Terrarium's default: 1 s to Idle, then 10 s): the held stub
  // keeps it in memory, so the call still reaches the same counter.
  async useHeldLater(ms: number): Promise<unknown> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return settle(() => this.heldCounter!.add(1));
  }

  reset(): void {
    this.ctx.abort("reset on purpose");
  }
}

/** A named entrypoint of this Worker, reached through its own service binding. */
export class Helper extends WorkerEntrypoint<Env> {
  counter(label: string): Counter {
    return new Counter(label);
  }
  async map(values: number[], fn: (n: number) => Promise<number>): Promise<number[]> {
    const out: number[] = [];
    for (const v of values) out.push(await fn(v));
    return out;
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const tally = env.TALLY.getByName(url.searchParams.get("name") ?? "tally");
    switch (url.pathname) {
      case "/adder": {
        using add = await tally.adder(5);
        return Response.json({ typeofStub: typeof add, first: await add(2), second: await add(1) });
      }
      case "/apply-twice":
        return Response.json({ result: await tally.applyTwice(async (n) => n * 3, 2) });
      case "/counter": {
        using counter = await tally.counter("clicks");
        const first = await counter.add(2);
        const second = await counter.add(3);
        // Instance fields, unlike prototype getters, are not exposed.
        let label: unknown;
        try {
          label = { ok: await counter.label };
        } catch (error) {
          label = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
        }
        return Response.json({
          typeofStub: typeof counter,
          first,
          second,
          value: await counter.value,
          label,
          inherited: await counter.describe(),
          missing: await settle(() => (counter as unknown as { nope(): Promise<unknown> }).nope()),
          thrown: await settle(() => counter.fail()),
          child: await settle(async () => {
            using child = await counter.child("kid");
            return { add: await child.add(7), label: await settle(() => child.label) };
          }),
          afterErrors: await counter.value,
        });
      }
      case "/pipeline": {
        // Calls on a call's promise, before it resolved.
        const counter = tally.counter("piped");
        const added = await counter.add(4);
        const value = await counter.value;
        const grandchild = await tally.counter("root").child("a").add(9);
        return Response.json({ added, value, grandchild, toolkit: await tally.toolkit().nested.read() });
      }
      case "/nested": {
        using kit = await tally.toolkit();
        const k = kit as unknown as {
          name: string;
          inc(n: number): Promise<number>;
          nested: { read(): Promise<number>; list: (() => Promise<string>)[] };
          byName: Map<string, (n: number) => Promise<number>>;
        };
        return Response.json({
          name: k.name,
          typeofInc: typeof k.inc,
          inc: await k.inc(3),
          read: await k.nested.read(),
          list: [await k.nested.list[0]!(), await k.nested.list[1]!()],
          double: await k.byName.get("double")!(21),
          options: await tally.useOptions({ prefix: "p", format: async (s) => s.toUpperCase() }),
        });
      }
      case "/third-party": {
        // A counter held by one object, passed to another that uses it.
        using counter = await env.TALLY.getByName("owner").counter("shared");
        await counter.add(1);
        const used = await settle(() => env.TALLY.getByName("user").useCounter(counter, 10));
        const seenByCaller = await settle(() => counter.value);
        // A dup() passed instead: the caller's own stub stays usable.
        using kept = await env.TALLY.getByName("owner").counter("kept");
        const usedDup = await settle(() => env.TALLY.getByName("user").useCounter(kept.dup(), 5));
        return Response.json({ used, seenByCaller, usedDup, keptValue: await settle(() => kept.value) });
      }
      case "/callback-errors":
        return Response.json({
          failing: await tally.callFailing(async () => {
            throw new TypeError("callback failed");
          }),
          rich: await tally.callRich(async () => ({
            when: new Date(Date.UTC(2025, 0, 2)),
            set: new Set([1, 2]),
            map: new Map([["a", 1]]),
          })),
          notCloneable: await settle(() => tally.applyTwice(async () => Symbol("no") as never, 1)),
        });
      case "/round-trip": {
        // A stub handed back to the object that holds its target.
        using counter = await tally.counter("mine");
        await counter.add(2);
        return Response.json({ used: await tally.useCounter(counter.dup(), 3), value: await counter.value });
      }
      case "/higher-order": {
        using factory = await tally.factory();
        using inner = await factory(7);
        using applier = await tally.applier();
        return Response.json({
          inner: await inner(5),
          typeofInner: typeof inner,
          applied: await applier(async (n: number) => n * 10),
        });
      }
      case "/pass-do-stub": {
        const other = env.TALLY.getByName("other");
        return Response.json({
          called: await settle(() => tally.callOther(other)),
          afterPassing: await settle(() => other.disposedCount()),
          service: await settle(() => tally.callOther(env.SELF as never)),
        });
      }
      case "/property-kinds": {
        using counter = await tally.counter("props");
        await counter.add(1);
        const loose = counter as unknown as Record<string, Promise<unknown>>;
        return Response.json({
          methodAsProperty: await settle(async () => typeof (await loose.add)),
          getter: await settle(() => loose.value),
          missingProperty: await settle(() => loose.nothingHere),
          objectGetter: await settle(() => (tally as unknown as { fieldLike: Promise<string> }).fieldLike),
          functionProperty: await settle(async () => {
            using add = await tally.adder(1);
            return typeof (await (add as unknown as { name: Promise<unknown> }).name);
          }),
        });
      }
      case "/dispose": {
        const counter = await tally.counter("temp");
        await counter.add(1);
        counter[Symbol.dispose]();
        return Response.json({ afterDispose: await settle(() => counter.add(1)) });
      }
      case "/undisposed": {
        // Never disposed here: workerd disposes it when this request ends.
        const counter = await tally.counter("left");
        return Response.json({ added: await counter.add(1) });
      }
      case "/hold":
        return Response.json({ held: await tally.hold("holder-owner") });
      case "/use-held":
        return Response.json({ used: await tally.useHeld() });
      case "/use-held-later":
        return Response.json({ used: await tally.useHeldLater(Number(url.searchParams.get("ms") ?? 0)) });
      case "/disposed":
        return Response.json({ count: await tally.disposedCount() });
      case "/stash":
        return Response.json({ stash: await tally.stash(async () => "called back") });
      case "/call-stashed":
        return Response.json(await tally.callStashed());
      case "/reset": {
        const counter = await tally.counter("doomed");
        const before = await counter.add(1);
        const reset = await settle(() => tally.reset());
        return Response.json({ before, reset, after: await settle(() => counter.add(1)) });
      }
      case "/service": {
        using counter = await env.SELF.counter("svc");
        return Response.json({
          add: await counter.add(2),
          value: await counter.value,
          mapped: await env.SELF.map([1, 2, 3], async (n) => n * 10),
        });
      }
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
