import { DurableObject } from "cloudflare:workers";

interface Env {
  FILES: R2Bucket;
  UPLOADERS: DurableObjectNamespace<Uploader>;
}

/**
 * The deterministic part of an object: versions and upload times vary, and
 * storageClass is "" under Miniflare but "Standard" on R2 (and in Terrarium).
 */
function describe(o: R2Object | null): unknown {
  if (!o) return null;
  return {
    key: o.key,
    size: o.size,
    etag: o.etag,
    httpEtag: o.httpEtag,
    versionLength: o.version.length,
    uploadedIsDate: o.uploaded instanceof Date,
    httpMetadata: o.httpMetadata,
    customMetadata: o.customMetadata,
    range: o.range,
    checksums: o.checksums.toJSON(),
    hasBody: "body" in o,
  };
}

async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return await fn();
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** An object uploading into the same bucket as the entry Worker. */
export class Uploader extends DurableObject<Env> {
  async upload(key: string, text: string): Promise<unknown> {
    return describe(await this.env.FILES.put(key, text, { customMetadata: { by: this.ctx.id.name ?? "?" } }));
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const bucket = env.FILES;
    switch (url.pathname) {
      case "/put":
        return Response.json({
          text: describe(
            await bucket.put("docs/readme.txt", "hello, bucket", {
              httpMetadata: { contentType: "text/plain", cacheControl: "max-age=60" },
              customMetadata: { owner: "alice", n: "1" },
            }),
          ),
          bytes: describe(await bucket.put("docs/data.bin", new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))),
          headers: describe(
            await bucket.put("img/a.png", "not really a png", {
              httpMetadata: new Headers({ "content-type": "image/png", "content-language": "en" }),
            }),
          ),
          empty: describe(await bucket.put("empty", null)),
          stream: describe(await bucket.put("img/b.png", new Response("streamed").body)),
          nested: describe(await bucket.put("docs/deep/x.txt", "x")),
        });
      case "/object":
        return Response.json(
          await env.UPLOADERS.getByName("u1").upload("from/object.txt", "made by an object"),
        );
      case "/get": {
        const full = await bucket.get("docs/readme.txt");
        const headers = new Headers();
        full?.writeHttpMetadata(headers);
        const ranged = await bucket.get("docs/data.bin", { range: { offset: 2, length: 3 } });
        const suffix = await bucket.get("docs/data.bin", { range: { suffix: 4 } });
        const fromOffset = await bucket.get("docs/data.bin", { range: { offset: 7 } });
        const header = await bucket.get("docs/data.bin", { range: new Headers({ range: "bytes=1-2" }) });
        const matching = await bucket.get("docs/readme.txt", { onlyIf: { etagMatches: full?.etag ?? "" } });
        const notMatching = await bucket.get("docs/readme.txt", {
          onlyIf: { etagDoesNotMatch: full?.etag ?? "" },
        });
        const fromObject = await bucket.get("from/object.txt");
        return Response.json({
          full: describe(full),
          text: await full?.text(),
          headers: [...headers],
          ranged: describe(ranged),
          rangedBytes: [...new Uint8Array((await ranged?.arrayBuffer()) ?? new ArrayBuffer(0))],
          suffix: [...new Uint8Array((await suffix?.arrayBuffer()) ?? new ArrayBuffer(0))],
          suffixRange: suffix?.range,
          fromOffset: [...new Uint8Array((await fromOffset?.arrayBuffer()) ?? new ArrayBuffer(0))],
          header: [...new Uint8Array((await header?.arrayBuffer()) ?? new ArrayBuffer(0))],
          matching: describe(matching),
          notMatching: describe(notMatching),
          empty: await (await bucket.get("empty"))?.text(),
          stream: await (await bucket.get("img/b.png"))?.text(),
          fromObject: { ...(describe(fromObject) as object), text: await fromObject?.text() },
          missing: await bucket.get("nope"),
          badRange: await caught(() => bucket.get("docs/data.bin", { range: { offset: 50 } })),
        });
      }
      case "/head":
        return Response.json({
          head: describe(await bucket.head("docs/readme.txt")),
          missing: await bucket.head("nope"),
        });
      case "/list": {
        const all = await bucket.list();
        const page1 = await bucket.list({ limit: 2 });
        const page2 = await bucket.list({ limit: 2, cursor: page1.truncated ? page1.cursor : "" });
        const keys = (l: R2Objects): unknown => ({
          keys: l.objects.map((o) => o.key),
          truncated: l.truncated,
          hasCursor: l.truncated ? typeof l.cursor === "string" : "cursor" in l && l.cursor !== undefined,
          delimitedPrefixes: l.delimitedPrefixes,
        });
        return Response.json({
          all: keys(all),
          firstObject: describe(all.objects[0] ?? null),
          page1: keys(page1),
          page2: keys(page2),
          prefix: keys(await bucket.list({ prefix: "docs/" })),
          delimiter: keys(await bucket.list({ delimiter: "/" })),
          prefixDelimiter: keys(await bucket.list({ prefix: "docs/", delimiter: "/" })),
          startAfter: keys(await bucket.list({ startAfter: "empty" })),
          include: describe(
            (await bucket.list({ prefix: "docs/readme", include: ["httpMetadata", "customMetadata"] }))
              .objects[0] ?? null,
          ),
          badLimit: await caught(() => bucket.list({ limit: 5000 })),
        });
      }
      case "/overwrite": {
        await bucket.put("docs/readme.txt", "new text", { customMetadata: { owner: "bob" } });
        const o = await bucket.get("docs/readme.txt");
        return Response.json({ object: describe(o), text: await o?.text() });
      }
      case "/delete": {
        await bucket.delete("empty");
        await bucket.delete(["img/a.png", "img/b.png", "never-existed"]);
        return Response.json((await bucket.list()).objects.map((o) => o.key));
      }
    }
    return new Response("not found", { status: 404 });
  },
};
