export interface Env {
  CACHE: KVNamespace;
}

// Times in messages (seconds since the epoch) differ from run to run.
function errorInfo(error: unknown) {
  return error instanceof Error
    ? { name: error.name, message: error.message.replace(/\b\d{10}\b/g, "<time>") }
    : { name: "?", message: String(error) };
}

async function settle(call: () => unknown) {
  try {
    const v = await call();
    return { ok: v === undefined ? "undefined" : v };
  } catch (error) {
    return { error: errorInfo(error) };
  }
}

const bytes = (b: ArrayBuffer | null) => (b === null ? null : [...new Uint8Array(b)]);

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const kv = env.CACHE;
    const url = new URL(request.url);
    const far = Math.floor(Date.now() / 1000) + 3600;
    switch (url.pathname) {
      case "/basics":
        return Response.json({
          missing: await kv.get("nope"),
          put: await settle(() => kv.put("greeting", "hello")),
          text: await kv.get("greeting"),
          textType: await kv.get("greeting", "text"),
          textOption: await kv.get("greeting", { type: "text", cacheTtl: 60 }),
          putJson: await settle(() => kv.put("obj", JSON.stringify({ a: [1, 2], b: "x" }))),
          json: await kv.get("obj", "json"),
          badJson: await settle(() => kv.get("greeting", "json")),
          putBytes: await settle(() => kv.put("bin", new Uint8Array([1, 2, 255]))),
          bytes: bytes(await kv.get("bin", "arrayBuffer")),
          putBuffer: await settle(() => kv.put("buf", new Uint8Array([7, 8]).buffer)),
          buffer: bytes(await kv.get("buf", "arrayBuffer")),
          stream: await new Response(await kv.get("greeting", "stream")).text(),
          putStream: await settle(() => kv.put("streamed", new Response("from a stream").body!)),
          streamed: await kv.get("streamed"),
          overwrite: await settle(() => kv.put("greeting", "hi again")),
          after: await kv.get("greeting"),
          deleted: await settle(() => kv.delete("greeting")),
          deletedMissing: await settle(() => kv.delete("greeting")),
          gone: await kv.get("greeting"),
          badType: await settle(() => kv.get("obj", "blob" as "text")),
        });
      case "/metadata": {
        await kv.put("m1", "v1", { metadata: { owner: "ada", n: 1 } });
        await kv.put("m2", "v2");
        await kv.put("m3", "v3", { metadata: { owner: "bob" }, expiration: far });
        const one = await kv.getWithMetadata("m1");
        const two = await kv.getWithMetadata("m2");
        const json = await kv.getWithMetadata<{ a: number[] }>("obj", "json");
        const missing = await kv.getWithMetadata("missing");
        return Response.json({ one, two, json, missing });
      }
      case "/bulk": {
        const many = await kv.get(["m1", "m2", "missing", "obj"]);
        const manyJson = await settle(async () => [...(await kv.get(["obj"], "json"))]);
        const badBulkType = await settle(() => kv.get(["m1"], "arrayBuffer" as "text"));
        const withMeta = await kv.getWithMetadata(["m1", "m2", "missing"]);
        const tooMany = await settle(() => kv.get(Array.from({ length: 101 }, (_, i) => `k${i}`)));
        return Response.json({
          many: [...many],
          manyJson,
          badBulkType,
          withMeta: [...withMeta],
          tooMany,
        });
      }
      case "/list": {
        for (const k of ["list/a", "list/b", "list/c", "list/d", "list/e", "other"]) await kv.put(k, k);
        await kv.put("list/m", "meta", { metadata: { tag: 1 }, expiration: far });
        const all = await kv.list({ prefix: "list/" });
        const page1 = await kv.list({ prefix: "list/", limit: 2 });
        const page2 = await kv.list({
          prefix: "list/",
          limit: 2,
          cursor: page1.list_complete ? undefined : page1.cursor,
        });
        const shape = (l: KVNamespaceListResult<unknown>) => ({
          keys: l.keys.map((k) => ({
            name: k.name,
            expiration: k.expiration === far ? "far" : (k.expiration ?? null),
            metadata: k.metadata ?? null,
          })),
          list_complete: l.list_complete,
          hasCursor:
            "cursor" in l &&
            typeof (l as { cursor?: string }).cursor === "string" &&
            (l as { cursor: string }).cursor.length > 0,
          cacheStatus: l.cacheStatus,
        });
        return Response.json({
          all: shape(all),
          page1: shape(page1),
          page2: shape(page2),
          limitZero: await settle(async () => (await kv.list({ limit: 0 })).keys.map((k) => k.name)),
          limitBig: await settle(() => kv.list({ limit: 1001 })),
          everything: (await kv.list()).keys.map((k) => k.name),
        });
      }
      case "/limits": {
        return Response.json({
          emptyKey: await settle(() => kv.put("", "x")),
          dotKey: await settle(() => kv.put(".", "x")),
          dotDotKey: await settle(() => kv.put("..", "x")),
          longKey: await settle(() => kv.put("k".repeat(513), "x")),
          maxKey: await settle(() => kv.put("k".repeat(512), "x")),
          getLongKey: await settle(() => kv.get("k".repeat(513))),
          ttlTooShort: await settle(() => kv.put("t", "x", { expirationTtl: 30 })),
          ttlOk: await settle(() => kv.put("t", "x", { expirationTtl: 60 })),
          expirationPast: await settle(() => kv.put("t", "x", { expiration: 1000 })),
          expirationSoon: await settle(() =>
            kv.put("t", "x", { expiration: Math.floor(Date.now() / 1000) + 10 }),
          ),
          ttlNaN: await settle(() => kv.put("t", "x", { expirationTtl: Number.NaN })),
          bigMetadata: await settle(() => kv.put("t", "x", { metadata: { big: "m".repeat(1100) } })),
          bigValue: await settle(() => kv.put("t", "v".repeat(25 * 1024 * 1024 + 1))),
          numberValue: await settle(() => kv.put("t", 42 as unknown as string)),
        });
      }
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
