// @ts-nocheck -- these are the built-ins newer than the TypeScript lib the
// export type-checks against (iterator helpers, Set methods, ...): what runs
// is what this project compares with workerd.
/**
 * JavaScript built-ins newer than Node 20's V8 that Workers code (and the
 * libraries it uses) relies on: each check returns its result or the error.
 */
function attempt(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    return { error: e instanceof Error ? e.name : String(e) };
  }
}

function* naturals(log: string[]): Generator<number> {
  try {
    for (let i = 1; ; i++) yield i;
  } finally {
    log.push("closed");
  }
}

const iterators = {
  "map.values().filter().map().toArray()": () =>
    new Map([
      ["a", 1],
      ["b", 2],
      ["c", 3],
    ])
      .values()
      .filter((v) => v !== 2)
      .map((v, i) => `${i}:${v}`)
      .toArray(),
  "take closes an endless source": () => {
    const log: string[] = [];
    return { taken: naturals(log).take(3).toArray(), log };
  },
  "take(0) asks nothing": () => {
    const log: string[] = [];
    return { taken: [...naturals(log).take(0)], log };
  },
  "drop, flatMap, reduce": () => ({
    dropped: [1, 2, 3, 4].values().drop(2).toArray(),
    flat: ["ab", "cd"]
      .values()
      .flatMap((s) => s.split(""))
      .toArray(),
    sum: [1, 2, 3].values().reduce((a, b) => a + b),
    sumFrom10: [1, 2, 3].values().reduce((a, b) => a + b, 10),
  }),
  "some, every, find close early": () => {
    const log: string[] = [];
    return {
      some: naturals(log).some((n) => n > 2),
      every: naturals(log).every((n) => n < 3),
      find: naturals(log).find((n) => n % 5 === 0),
      log,
    };
  },
  "forEach counts": () => {
    const seen: number[] = [];
    new Set([3, 4]).values().forEach((v, i) => seen.push(v * 10 + i));
    return seen;
  },
  "Iterator.from on a next()-only object": () => {
    let n = 0;
    const it = Iterator.from({
      next: () => (n < 3 ? { done: false, value: ++n } : { done: true, value: undefined }),
    });
    return { isIterator: it instanceof Iterator, values: it.map((v) => v * 2).toArray() };
  },
  "reduce of an empty iterator": () => [].values().reduce((a: number, b: number) => a + b),
  "take(-1)": () => [1].values().take(-1),
  "filter without a function": () => [1].values().filter(undefined as never),
  "new Iterator()": () => new (Iterator as unknown as new () => unknown)(),
};

const others = {
  "Promise.withResolvers": async () => {
    const { promise, resolve } = Promise.withResolvers<string>();
    resolve("resolved");
    return promise;
  },
  "Promise.try": async () => [
    await Promise.try((a: number, b: number) => a + b, 1, 2),
    await Promise.try(() => {
      throw new RangeError("x");
    }).catch((e: Error) => e.name),
  ],
  "Object.groupBy": () => Object.groupBy([1, 2, 3, 4, 5], (n) => (n % 2 ? "odd" : "even")),
  "Map.groupBy": () => [...Map.groupBy([1, 2, 3], (n) => n > 1)],
  "Array.fromAsync": async () => {
    async function* gen(): AsyncGenerator<number> {
      yield 1;
      yield 2;
    }
    return [
      await Array.fromAsync(gen()),
      await Array.fromAsync([Promise.resolve(3), 4], (v: number) => v * 2),
    ];
  },
  "Set methods": () => {
    const a = new Set([1, 2, 3]);
    const b = new Set([3, 4]);
    return {
      union: [...a.union(b)],
      intersection: [...a.intersection(b)],
      difference: [...a.difference(b)],
      symmetricDifference: [...a.symmetricDifference(b)],
      isSubsetOf: new Set([1]).isSubsetOf(a),
      isSupersetOf: a.isSupersetOf(new Set([1, 2])),
      isDisjointFrom: a.isDisjointFrom(new Set([9])),
      mapAsSetLike: [...a.intersection(new Map([[2, "two"]]))],
    };
  },
  "Set method with a non-set": () => new Set([1]).union([1] as never),
};

export default {
  async fetch(): Promise<Response> {
    const results: Record<string, unknown> = {};
    for (const [name, check] of Object.entries({ ...iterators, ...others })) {
      results[name] = await Promise.resolve(attempt(check)).catch((e: unknown) => ({
        error: e instanceof Error ? e.name : String(e),
      }));
    }
    return Response.json(results);
  },
} satisfies ExportedHandler;
