import { DurableObject } from "cloudflare:workers";

export interface Env {
  STORE: DurableObjectNamespace<Store>;
}

/**
 * Turns any structured-clone value into plain JSON that records its type,
 * so a response shows exactly what came back from storage.
 */
function describe(value: unknown): unknown {
  if (value === undefined) return { type: "undefined" };
  if (value === null) return null;
  if (typeof value === "number") {
    return Number.isFinite(value) && !Object.is(value, -0)
      ? value
      : { type: "number", text: Object.is(value, -0) ? "-0" : String(value) };
  }
  if (typeof value === "bigint") return { type: "bigint", text: value.toString() };
  if (typeof value !== "object") return value;
  if (value instanceof Map)
    return { type: "Map", entries: [...value].map(([k, v]) => [describe(k), describe(v)]) };
  if (value instanceof Set) return { type: "Set", values: [...value].map(describe) };
  if (value instanceof Date) return { type: "Date", iso: value.toISOString() };
  if (value instanceof RegExp) return { type: "RegExp", source: value.source, flags: value.flags };
  if (value instanceof Error) return { type: "Error", name: value.name, message: value.message };
  if (value instanceof ArrayBuffer) return { type: "ArrayBuffer", bytes: [...new Uint8Array(value)] };
  if (ArrayBuffer.isView(value)) {
    return {
      type: value.constructor.name,
      bytes: [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)],
    };
  }
  if (Array.isArray(value)) {
    return {
      type: "Array",
      items: Array.from({ length: value.length }, (_, i) =>
        i in value ? describe(value[i]) : { type: "hole" },
      ),
    };
  }
  return {
    type: "Object",
    entries: Object.entries(value).map(([k, v]) => [k, describe(v)]),
  };
}

function errorInfo(error: unknown): { error: { name: string; message: string } } {
  return {
    error:
      error instanceof Error
        ? { name: error.name, message: error.message }
        : { name: "?", message: String(error) },
  };
}

async function attempt(fn: () => Promise<unknown> | unknown): Promise<unknown> {
  try {
    return { ok: describe(await fn()) };
  } catch (error) {
    return errorInfo(error);
  }
}

const FRUIT = ["apple", "apricot", "banana", "blueberry", "cherry", "date", "fig", "grape"];
// Code points whose UTF-8 and UTF-16 orders differ, and case.
const ODD_KEYS = ["a", "B", "Z", "ä", "\uffff", "😀", "a\u0000b", "", " "];

export class Store extends DurableObject<Env> {
  async seed() {
    const entries: Record<string, unknown> = {};
    for (const [i, name] of FRUIT.entries()) entries[`fruit:${name}`] = i;
    await this.ctx.storage.put(entries);
    await this.ctx.storage.put("veg:carrot", "orange");
    await this.ctx.storage.put("veg:pea", "green");
    return { seeded: FRUIT.length + 2 };
  }

  async list(options: DurableObjectListOptions) {
    try {
      const map = await this.ctx.storage.list(options);
      return { keys: [...map.keys()], values: [...map.values()].map(describe) };
    } catch (error) {
      return errorInfo(error);
    }
  }

  async listMatrix() {
    const cases: Record<string, DurableObjectListOptions> = {
      all: {},
      prefixFruit: { prefix: "fruit:" },
      prefixB: { prefix: "fruit:b" },
      prefixNone: { prefix: "nothing:" },
      start: { start: "fruit:cherry" },
      startAfter: { startAfter: "fruit:cherry" },
      startMissing: { start: "fruit:c" },
      end: { end: "fruit:cherry" },
      startEnd: { start: "fruit:banana", end: "fruit:fig" },
      startAfterEnd: { startAfter: "fruit:banana", end: "fruit:fig" },
      reverse: { reverse: true },
      reverseLimit: { reverse: true, limit: 3 },
      limit: { limit: 2 },
      limitPrefix: { prefix: "fruit:", limit: 3 },
      prefixStart: { prefix: "fruit:", start: "fruit:d" },
      prefixEnd: { prefix: "fruit:", end: "fruit:c" },
      prefixReverseLimit: { prefix: "fruit:", reverse: true, limit: 2 },
      startAfterEndEmpty: { start: "fruit:fig", end: "fruit:banana" },
      startBeforePrefix: { prefix: "veg:", start: "a" },
    };
    const out: Record<string, unknown> = {};
    for (const [name, options] of Object.entries(cases)) {
      const map = await this.ctx.storage.list(options);
      out[name] = [...map.keys()];
    }
    return out;
  }

  async listErrors() {
    return {
      limitZero: await attempt(async () => [...(await this.ctx.storage.list({ limit: 0 })).keys()]),
      limitNegative: await attempt(async () => [...(await this.ctx.storage.list({ limit: -1 })).keys()]),
      startAndStartAfter: await attempt(async () => [
        ...(await this.ctx.storage.list({ start: "a", startAfter: "b" })).keys(),
      ]),
    };
  }

  async getMany(keys: string[]) {
    const map = await this.ctx.storage.get(keys);
    return { keys: [...map.keys()], values: [...map.values()].map(describe) };
  }

  async deleteMany(keys: string[]) {
    return { deleted: await this.ctx.storage.delete(keys) };
  }

  async deleteOne(key: string) {
    return { deleted: await this.ctx.storage.delete(key) };
  }

  async oddKeys() {
    for (const key of ODD_KEYS) await this.ctx.storage.put(`odd:${key}`, key.length);
    const listed = await this.ctx.storage.list({ prefix: "odd:" });
    const single = await this.ctx.storage.get("odd:😀");
    return { order: [...listed.keys()].map((k) => [...k].map((c) => c.codePointAt(0))), single };
  }

  async values() {
    const samples: Record<string, unknown> = {
      string: "hello",
      emptyString: "",
      number: 42.5,
      negativeZero: -0,
      nan: NaN,
      infinity: -Infinity,
      bigint: 12345678901234567890n,
      boolean: false,
      nullValue: null,
      array: [1, "two", [3], { four: 4 }],
      sparse: [1, , 3],
      nested: { a: { b: { c: [1, 2, { d: "deep" }] } }, undefinedField: undefined },
      map: new Map<unknown, unknown>([
        ["k", 1],
        [2, { v: "two" }],
      ]),
      set: new Set(["x", "y", 3]),
      date: new Date(Date.UTC(2024, 1, 29, 12, 30, 45, 123)),
      regexp: /ab+c/gi,
      bytes: new Uint8Array([0, 1, 254, 255]),
      floats: new Float64Array([1.5, -2]),
      buffer: new Uint8Array([9, 8, 7]).buffer,
      error: new RangeError("out of range"),
    };
    await this.ctx.storage.put(
      Object.fromEntries(Object.entries(samples).map(([k, v]) => [`value:${k}`, v])),
    );
    const back = await this.ctx.storage.list({ prefix: "value:" });
    const cycle: Record<string, unknown> = { name: "loop" };
    cycle.self = cycle;
    await this.ctx.storage.put("cycle", cycle);
    const cycleBack = (await this.ctx.storage.get<Record<string, unknown>>("cycle")) ?? {};
    return {
      values: Object.fromEntries([...back].map(([k, v]) => [k, describe(v)])),
      cycleIsSelf: cycleBack.self === cycleBack,
    };
  }

  async putErrors() {
    const longKey = "k".repeat(2049);
    const manyKeys = Array.from({ length: 129 }, (_, i) => `many:${i}`);
    return {
      putFunction: await attempt(() => this.ctx.storage.put("bad", () => 1)),
      putSymbol: await attempt(() => this.ctx.storage.put("bad", Symbol("s"))),
      putUndefined: await attempt(() => this.ctx.storage.put("undef", undefined)),
      getUndefinedBack: await attempt(() => this.ctx.storage.get("undef")),
      putLongKey: await attempt(() => this.ctx.storage.put(longKey, 1)),
      getLongKey: await attempt(() => this.ctx.storage.get(longKey)),
      putMaxKey: await attempt(() => this.ctx.storage.put("k".repeat(2048), 1)),
      getManyTooMany: await attempt(() => this.ctx.storage.get(manyKeys)),
      putManyTooMany: await attempt(() =>
        this.ctx.storage.put(Object.fromEntries(manyKeys.map((k) => [k, 1]))),
      ),
      deleteManyTooMany: await attempt(() => this.ctx.storage.delete(manyKeys)),
      putMany128: await attempt(() =>
        this.ctx.storage.put(Object.fromEntries(manyKeys.slice(0, 128).map((k) => [k, 1]))),
      ),
      countMany: await attempt(async () => (await this.ctx.storage.list({ prefix: "many:" })).size),
      getMissing: await attempt(() => this.ctx.storage.get("nope")),
    };
  }

  // The synchronous KV API of SQLite-backed objects.
  syncKv() {
    const kv = this.ctx.storage.kv;
    if (kv === undefined) return { available: false };
    kv.put("sync:b", { n: 2 });
    kv.put("sync:a", new Map([["m", 1]]));
    kv.put("sync:c", 3);
    const deleted = kv.delete("sync:c");
    const deletedAgain = kv.delete("sync:c");
    const listed = [...kv.list({ prefix: "sync:" })].map(([k, v]) => [k, describe(v)]);
    const reversed = [...kv.list({ prefix: "sync:", reverse: true, limit: 1 })].map(([k]) => k);
    return {
      available: true,
      a: describe(kv.get("sync:a")),
      missing: describe(kv.get("sync:zzz")),
      deleted,
      deletedAgain,
      listed,
      reversed,
    };
  }

  async cleanup() {
    const deleted = await this.ctx.storage.delete([
      "k".repeat(2048),
      "undef",
      "cycle",
      ...Array.from({ length: 128 }, (_, i) => `many:${i}`).slice(0, 100),
    ]);
    const rest = await this.ctx.storage.list({ prefix: "many:" });
    return { deleted, rest: [...rest.keys()] };
  }
}

async function body(request: Request): Promise<Record<string, unknown>> {
  return request.headers.get("content-type")?.startsWith("application/json")
    ? ((await request.json()) as Record<string, unknown>)
    : {};
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const store = env.STORE.getByName(url.searchParams.get("store") ?? "main");
    const input = await body(request);
    switch (url.pathname) {
      case "/seed":
        return Response.json(await store.seed());
      case "/list":
        return Response.json(await store.list(input as DurableObjectListOptions));
      case "/list-matrix":
        return Response.json(await store.listMatrix());
      case "/list-errors":
        return Response.json(await store.listErrors());
      case "/get-many":
        return Response.json(await store.getMany(input.keys as string[]));
      case "/delete-many":
        return Response.json(await store.deleteMany(input.keys as string[]));
      case "/delete":
        return Response.json(await store.deleteOne(String(input.key)));
      case "/odd-keys":
        return Response.json(await store.oddKeys());
      case "/values":
        return Response.json(await store.values());
      case "/put-errors":
        return Response.json(await store.putErrors());
      case "/sync-kv":
        return Response.json(await store.syncKv());
      case "/cleanup":
        return Response.json(await store.cleanup());
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
