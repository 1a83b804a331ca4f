import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { deserializeRequest, serializeRequest } from "../../../runtime/host/http-serialize.ts";
import type { SerializedRequest } from "../../../runtime/host/protocol.ts";

const bytes = (s: string): ArrayBuffer => new TextEncoder().encode(s).buffer as ArrayBuffer;

const get = (): SerializedRequest => ({
  url: "http://example.com/a/b?x=1",
  method: "GET",
  headers: [
    ["Accept", "text/plain"],
    ["x-two", "2"],
  ],
  body: null,
});

const post = (body = "hello"): SerializedRequest => ({
  url: "http://example.com/in",
  method: "POST",
  headers: [["content-type", "text/plain"]],
  body: bytes(body),
});

/** Built: undici's slots are the object's own (a lazy one has none until something looks inside). */
const built = (req: Request): boolean => Object.getOwnPropertySymbols(req).length > 0;

describe("a request that arrives in a worker (built when first looked inside)", () => {
  it("is a Request by every test code can make", () => {
    const req = deserializeRequest(get());
    expect(req).toBeInstanceOf(Request);
    expect(Object.prototype.toString.call(req)).toBe("[object Request]");
    expect(typeof req.clone).toBe("function");
  });

  it("answers url, method, bodyUsed and a missing body without building the Request", () => {
    const req = deserializeRequest(get());
    expect(req.url).toBe("http://example.com/a/b?x=1");
    expect(req.method).toBe("GET");
    expect(req.bodyUsed).toBe(false);
    expect(req.body).toBeNull();
    expect(built(req)).toBe(false);
  });

  it("has the headers, one Headers object each time, and the rest of the Request", () => {
    const req = deserializeRequest(get());
    const headers = req.headers;
    expect(built(req)).toBe(true);
    expect(req.headers).toBe(headers);
    expect(headers.get("accept")).toBe("text/plain");
    expect([...headers]).toEqual([
      ["accept", "text/plain"],
      ["x-two", "2"],
    ]);
    expect(req.url).toBe("http://example.com/a/b?x=1");
    expect(req.redirect).toBe("follow");
    expect(req.signal).toBeInstanceOf(AbortSignal);
    expect(req.signal.aborted).toBe(false);
    expect(inspect(req)).toContain("http://example.com/a/b?x=1");
  });

  it("reads a body once, as a Request does", async () => {
    const req = deserializeRequest(post("héllo"));
    expect(req.body).not.toBeNull();
    expect(req.bodyUsed).toBe(false);
    expect(await req.text()).toBe("héllo");
    expect(req.bodyUsed).toBe(true);
    await expect(req.text()).rejects.toThrow(TypeError);
    expect(await deserializeRequest(post('{"a":1}')).json()).toEqual({ a: 1 });
  });

  it("clones, and is taken by new Request() with or without changes", async () => {
    const req = deserializeRequest(post("body"));
    const copy = req.clone();
    expect(copy).toBeInstanceOf(Request);
    expect(await copy.text()).toBe("body");
    expect(await req.text()).toBe("body");

    const again = new Request(deserializeRequest(get()));
    expect(again.url).toBe("http://example.com/a/b?x=1");
    expect(again.headers.get("x-two")).toBe("2");
    const changed = new Request(deserializeRequest(post("moved")), { method: "PUT" });
    expect(changed.method).toBe("PUT");
    expect(await changed.text()).toBe("moved");
  });

  it("is sent by fetch() as it came", async () => {
    const seen: { method?: string; url?: string; headers?: IncomingHttpHeaders; body?: string } = {};
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        Object.assign(seen, { method: req.method, url: req.url, headers: req.headers, body });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(
        deserializeRequest({ ...post("to the server"), url: `http://127.0.0.1:${port}/p?q=1` }),
      );
      expect(await res.text()).toBe("ok");
      expect(seen).toMatchObject({ method: "POST", url: "/p?q=1", body: "to the server" });
      expect(seen.headers?.["content-type"]).toBe("text/plain");
    } finally {
      server.close();
    }
  });

  it("is passed on to another worker unread as the record it came as (no body), else read", async () => {
    const req = deserializeRequest(get());
    expect(await serializeRequest(req)).toEqual(get());
    expect(built(req)).toBe(false);

    const withBody = deserializeRequest(post("passed on"));
    const out = await serializeRequest(withBody);
    expect(new TextDecoder().decode(out.body!)).toBe("passed on");
    expect(withBody.bodyUsed).toBe(true);
  });

  it("drops a body sent with GET, as the router does", () => {
    const req = deserializeRequest({ ...get(), body: bytes("ignored") });
    expect(req.body).toBeNull();
  });

  it("is built at once when the Request constructor would change or refuse it", () => {
    const lower = deserializeRequest({ ...get(), method: "get" });
    expect(built(lower)).toBe(true);
    expect(lower.method).toBe("GET");
    expect(() => deserializeRequest({ ...get(), method: "TRACE" })).toThrow(TypeError);
    expect(() => deserializeRequest({ ...get(), headers: [["bad name", "x"]] })).toThrow(TypeError);
    expect(() => deserializeRequest({ ...get(), headers: [["x", "a\nb"]] })).toThrow(TypeError);
    const padded = deserializeRequest({ ...get(), headers: [["x", " spaced "]] });
    expect(padded.headers.get("x")).toBe("spaced");
  });
});
