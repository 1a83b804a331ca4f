import { describe, expect, it } from "vitest";
import { deserializeResponse, serializeResponse } from "../../../runtime/host/http-serialize.ts";
import { WorkersResponse } from "../../../runtime/host/response.ts";

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

  it("hands a stream body on as the stream itself (not read to its end), and a null body gives empty bytes", async () => {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const out = await serializeResponse(new WorkersResponse(readable));
    // Nothing was written yet, and the stream never ends: a buffered body would never settle.
    expect(out.body).toBeNull();
    const reader = out.stream!.getReader();
    const writer = writable.getWriter();
    void writer.write(new TextEncoder().encode("first"));
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("first");
    // The reader going away (a client disconnecting) rejects the writer's next write.
    await reader.cancel();
    await expect(writer.write(new TextEncoder().encode("second"))).rejects.toBeUndefined();
    // Once read by the code, a stream body is sent as the bytes read are (none left here).
    const read = new WorkersResponse(new Blob(["x"]).stream());
    await read.text();
    await expect(serializeResponse(read)).rejects.toThrow(TypeError);
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

describe("WorkersResponse with a string or bytes body (streamed only when read)", () => {
  it("reads like any Response: text, json, body stream, bodyUsed, once only", async () => {
    const res = new WorkersResponse("héllo");
    expect(res.headers.get("content-type")).toBe("text/plain;charset=UTF-8");
    expect(res.bodyUsed).toBe(false);
    expect(await res.text()).toBe("héllo");
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow(TypeError);

    const viaStream = new WorkersResponse(new Uint8Array([104, 105]));
    expect(viaStream.headers.get("content-type")).toBeNull();
    const reader = viaStream.body!.getReader();
    const chunks: number[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(...r.value);
    expect(chunks).toEqual([104, 105]);
    expect(viaStream.bodyUsed).toBe(true);

    expect(await WorkersResponse.json({ a: [1] }).json()).toEqual({ a: [1] });
    expect(await new WorkersResponse("x", { headers: { "content-type": "text/html" } }).blob()).toMatchObject(
      {
        type: "text/html",
        size: 1,
      },
    );
    const form = await new WorkersResponse("a=1&b=two", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }).formData();
    expect([...form.entries()]).toEqual([
      ["a", "1"],
      ["b", "two"],
    ]);
  });

  it("clones before and after the body is touched, and refuses a clone of a used body", async () => {
    const res = new WorkersResponse("twice", { status: 201, statusText: "Made", headers: { "x-a": "1" } });
    const copy = res.clone();
    expect(copy.status).toBe(201);
    expect(copy.statusText).toBe("Made");
    expect(copy.headers.get("x-a")).toBe("1");
    expect(await copy.text()).toBe("twice");
    expect(res.body).not.toBeNull();
    const second = res.clone();
    expect(await res.text()).toBe("twice");
    expect(await second.text()).toBe("twice");
    expect(() => res.clone()).toThrow(TypeError);
  });

  it("refuses a body with a null-body status, as the constructor does", () => {
    expect(() => new WorkersResponse("no", { status: 204 })).toThrow(TypeError);
  });

  it("sends a body that was streamed and not read, and refuses one that was read", async () => {
    const streamed = new WorkersResponse("looked at");
    expect(streamed.body).not.toBeNull();
    expect(text((await serializeResponse(streamed)).body)).toBe("looked at");
    const read = new WorkersResponse("read");
    await read.arrayBuffer();
    await expect(serializeResponse(read)).rejects.toThrow(TypeError);
  });
});
