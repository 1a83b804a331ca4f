import { describe, expect, it } from "vitest";
import { deserializeResponse, serializeResponse } from "../../../runtime/host/http-serialize.ts";
import { WorkersResponse } from "../../../runtime/host/websocket.ts";

const text = (b: ArrayBuffer | null): string => new TextDecoder().decode(b ?? new ArrayBuffer(0));

describe("serializeResponse", () => {
  it("sends a string body with the headers the Response constructor set", async () => {
    const out = await serializeResponse(new WorkersResponse("héllo", { status: 201 }));
    expect(out.status).toBe(201);
    expect(text(out.body)).toBe("héllo");
    expect(new Headers(out.headers).get("content-type")).toBe("text/plain;charset=UTF-8");
  });

  it("sends the bytes as they were when the Response was made, as the constructor copies them", async () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const res = new WorkersResponse(bytes.subarray(1, 3));
    bytes.fill(9);
    const out = await serializeResponse(res);
    expect([...new Uint8Array(out.body!)]).toEqual([2, 3]);
  });

  it("reads a stream body, and a null body gives empty bytes", async () => {
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode("from a stream"));
        c.close();
      },
    });
    expect(text((await serializeResponse(new WorkersResponse(stream))).body)).toBe("from a stream");
    const empty = await serializeResponse(new WorkersResponse(null, { status: 200 }));
    expect(empty.body?.byteLength).toBe(0);
    expect((await serializeResponse(new WorkersResponse(null, { status: 204 }))).body).toBeNull();
  });

  it("refuses a body the object already read, as before", async () => {
    const res = new WorkersResponse("once");
    expect(await res.text()).toBe("once");
    await expect(serializeResponse(res)).rejects.toThrow(TypeError);
  });

  it("passes a response that came over the wire on unchanged", async () => {
    const body = new TextEncoder().encode('{"n":1}').buffer as ArrayBuffer;
    const res = deserializeResponse({
      status: 200,
      statusText: "OK",
      headers: [["content-type", "application/json"]],
      body,
    });
    const out = await serializeResponse(res);
    expect(text(out.body)).toBe('{"n":1}');
    expect(new Headers(out.headers).get("content-type")).toBe("application/json");
  });
});
