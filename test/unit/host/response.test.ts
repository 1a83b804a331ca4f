import { describe, expect, it } from "vitest";
import { deserializeResponse, serializeResponse } from "../../../runtime/host/http-serialize.ts";
import { baseResponse, WorkersResponse } from "../../../runtime/host/response.ts";

/** Node's own Response. */
const BaseResponse = baseResponse();

const text = (b: ArrayBuffer | null): string => new TextDecoder().decode(b ?? new ArrayBuffer(0));
/** Built: undici's slots are the object's own (an unbuilt response has none until something looks inside). */
const built = (res: Response): boolean => Object.getOwnPropertySymbols(res).length > 0;

type Init = ResponseInit | undefined;
/** Bodies and inits, simple (made unbuilt) and not (left to the constructor), compared with Node's Response. */
const CASES: [string, ConstructorParameters<typeof Response>[0] | undefined, Init][] = [
  ["a string", "héllo", undefined],
  ["no body", undefined, undefined],
  ["null with 204", null, { status: 204 }],
  ["bytes", new Uint8Array([1, 2, 3]), { status: 201 }],
  ["an ArrayBuffer", new Uint8Array([7]).buffer, undefined],
  [
    "headers as an object",
    '{"a":1}',
    { status: 202, headers: { "X-B": "2", a: "1", "Content-Type": "application/json" } },
  ],
  [
    "headers as pairs",
    "x",
    {
      headers: [
        ["zed", "last"],
        ["Accept", "*/*"],
      ],
    },
  ],
  ["a status text", "x", { status: 200, statusText: "Fine" }],
  ["a Headers object", "x", { headers: new Headers({ b: "1" }) }],
  [
    "a name twice",
    "x",
    {
      headers: [
        ["a", "1"],
        ["A", "2"],
      ],
    },
  ],
  [
    "set-cookie twice",
    "x",
    {
      headers: [
        ["set-cookie", "a=1"],
        ["set-cookie", "b=2"],
      ],
    },
  ],
  ["a padded value", "x", { headers: { a: "  spaced " } }],
  ["a number status given as text", "x", { status: "203" as unknown as number }],
];

describe("new Response(...) in a worker (unbuilt until looked inside)", () => {
  for (const [label, body, init] of CASES) {
    it(`matches Node's Response: ${label}`, async () => {
      const ours = new WorkersResponse(body, init);
      const node = new BaseResponse(body, init);
      expect(ours.status).toBe(node.status);
      expect(ours.statusText).toBe(node.statusText);
      expect(ours.ok).toBe(node.ok);
      expect(ours.type).toBe(node.type);
      expect(ours.redirected).toBe(node.redirected);
      expect(ours.url).toBe(node.url);
      expect([...ours.headers]).toEqual([...node.headers]);
      expect(ours.body === null).toBe(node.body === null);
      expect(await ours.text()).toBe(await node.text());
      expect(ours.bodyUsed).toBe(node.bodyUsed);
    });
  }

  it("refuses what Node's Response refuses, with the same error", () => {
    const bad: [ConstructorParameters<typeof Response>[0], ResponseInit][] = [
      ["x", { status: 204 }],
      ["x", { status: 99 }],
      ["x", { status: 600 }],
      ["x", { headers: { "bad name": "1" } }],
      ["x", { headers: { a: "line\nbreak" } }],
    ];
    for (const [body, init] of bad) {
      let nodeError: unknown;
      try {
        new BaseResponse(body, init);
      } catch (e) {
        nodeError = e;
      }
      expect(nodeError).toBeInstanceOf(Error);
      expect(() => new WorkersResponse(body, init)).toThrow((nodeError as Error).constructor as typeof Error);
    }
  });

  it("answers status and bodyUsed from the record, and is built by headers", () => {
    const res = new WorkersResponse("x", { status: 201 });
    expect(res).toBeInstanceOf(WorkersResponse);
    expect(res).toBeInstanceOf(BaseResponse);
    expect(Object.prototype.toString.call(res)).toBe("[object Response]");
    expect(res.status).toBe(201);
    expect(res.bodyUsed).toBe(false);
    expect(built(res)).toBe(false);
    expect(res.headers.get("content-type")).toBe("text/plain;charset=UTF-8");
    expect(built(res)).toBe(true);
    expect(res.status).toBe(201);
  });

  it("reads once, clones, and streams", async () => {
    const res = new WorkersResponse("once");
    const copy = res.clone();
    expect(await res.text()).toBe("once");
    await expect(res.text()).rejects.toThrow(TypeError);
    expect(await copy.text()).toBe("once");

    const streamed = new WorkersResponse("abc").body!;
    const reader = streamed.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe("abc");
    expect(await new WorkersResponse('{"a":[1]}').json()).toEqual({ a: [1] });
    expect(await new BaseResponse(new WorkersResponse("piped").body).text()).toBe("piped");
  });

  it("takes another Response as the init: its status, status text and headers", async () => {
    for (const from of [
      new WorkersResponse("x", { status: 404, headers: { etag: '"1"', "content-type": "text/html" } }),
      deserializeResponse({ status: 404, statusText: "Not Found", headers: [["etag", '"1"']], body: null }),
    ]) {
      const copy = new WorkersResponse(new TextEncoder().encode("body"), from);
      copy.headers.set("x-added", "1");
      expect(copy.status).toBe(404);
      expect(copy.statusText).toBe(from.statusText);
      expect([...copy.headers]).toEqual(
        [...from.headers, ["x-added", "1"]].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
      );
      expect(await copy.text()).toBe("body");
    }
  });

  it("leaves a subclass to the constructor", async () => {
    class Mine extends WorkersResponse {
      mine = true;
    }
    const res = new Mine("x");
    expect(res).toBeInstanceOf(Mine);
    expect(res.mine).toBe(true);
    expect(await res.text()).toBe("x");
  });
});

describe("serializing an unbuilt response", () => {
  it("takes the body without building, and refuses it a second time as a used body is refused", async () => {
    const res = new WorkersResponse("sent", { headers: { "x-a": "1" } });
    const out = await serializeResponse(res);
    expect(built(res)).toBe(false);
    expect(text(out.body)).toBe("sent");
    expect(out.headers).toEqual([
      ["content-type", "text/plain;charset=UTF-8"],
      ["x-a", "1"],
    ]);
    expect(res.bodyUsed).toBe(true);
    await expect(serializeResponse(res)).rejects.toThrow(TypeError);
    await expect(res.text()).rejects.toThrow(TypeError);
  });

  it("refuses a built response's body a second time too", async () => {
    const res = new WorkersResponse("sent", { statusText: "Built" });
    expect(text((await serializeResponse(res)).body)).toBe("sent");
    expect(res.bodyUsed).toBe(true);
    await expect(serializeResponse(res)).rejects.toThrow(TypeError);
  });

  it("sends a response without a body as often as it is returned", async () => {
    const res = new WorkersResponse(null, { status: 204 });
    expect((await serializeResponse(res)).body).toBeNull();
    expect((await serializeResponse(res)).body).toBeNull();
    const empty = new WorkersResponse();
    expect((await serializeResponse(empty)).body?.byteLength).toBe(0);
  });

  it("passes a response from another worker on as it came", async () => {
    const body = new TextEncoder().encode("over the wire").buffer as ArrayBuffer;
    const wire = {
      status: 200,
      statusText: "OK",
      headers: [
        ["content-type", "text/plain"],
        ["set-cookie", "a=1"],
        ["set-cookie", "b=2"],
      ] as [string, string][],
      body,
    };
    const res = deserializeResponse(wire);
    expect(res).toBeInstanceOf(WorkersResponse);
    const out = await serializeResponse(res);
    expect(out.body).toBe(body);
    expect(out.headers).toEqual(wire.headers);

    const read = deserializeResponse({
      ...wire,
      body: new TextEncoder().encode("read").buffer as ArrayBuffer,
    });
    expect(read.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(read.statusText).toBe("OK");
    expect(await read.text()).toBe("read");
  });
});
