import { DurableObject, RpcTarget } from "cloudflare:workers";

export interface Env {
  TALLY: DurableObjectNamespace<Tally>;
}

class Counter extends RpcTarget {
  #value = 0;
  constructor(readonly label: string) {
    super();
  }
  add(n: number): number {
    this.#value += n;
    return this.#value;
  }
  get value(): number {
    return this.#value;
  }
}

export class Tally extends DurableObject<Env> {
  total = 0;

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
    return new Counter(label);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const tally = env.TALLY.getByName("tally");
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
        return Response.json({ first, second, value: await counter.value, label });
      }
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
