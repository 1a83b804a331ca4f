import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enginesPerTest, FIXTURES } from "../helpers/project.ts";

/**
 * A body an outbound fetch() gets reaches the client as it arrives: a
 * Worker (or an object) that returns `fetch(upstream)` passes on an event
 * stream the upstream server has not ended, as under workerd. The upstream
 * here writes its first event and holds the second until the test has read
 * the first through the Worker, so a runtime that reads the body in full
 * first never gets that far.
 */

const engines = enginesPerTest();

let upstream: Server;
let upstreamUrl: string;
/** Responses waiting for the test to let their second event go, by request. */
const held = new Set<ServerResponse>();

beforeAll(async () => {
  upstream = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    res.write("data: 1\n\n");
    held.add(res);
    res.on("close", () => held.delete(res));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/events`;
});

afterAll(async () => {
  for (const res of held) res.destroy();
  await new Promise((r) => upstream.close(r));
});

/** Lets every held upstream response write its second event and end. */
function release(): void {
  for (const res of held) res.end("data: 2\n\n");
}

/** Reads `body` until `text` has come (or the body ended), returning what came. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<string> {
  const decoder = new TextDecoder();
  let got = "";
  while (!got.includes(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    got += decoder.decode(value, { stream: true });
  }
  return got;
}

/** The stream through `origin`'s `path`: the first event before the upstream ends, then the rest. */
async function streamsThrough(dispatch: (path: string) => Promise<Response>, path: string): Promise<void> {
  const res = await dispatch(`${path}?upstream=${encodeURIComponent(upstreamUrl)}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  const reader = res.body!.getReader();
  expect(await readUntil(reader, "data: 1\n\n")).toBe("data: 1\n\n");
  release();
  expect(await readUntil(reader, "data: 2\n\n")).toBe("data: 2\n\n");
  expect((await reader.read()).done).toBe(true);
}

describe("outbound fetch bodies stream", () => {
  const dir = join(FIXTURES, "outbound-stream");

  describe("under workerd (the reference)", () => {
    let mf: Miniflare;
    beforeAll(async () => {
      mf = new Miniflare({
        modules: true,
        scriptPath: join(dir, "src", "index.js"),
        compatibilityDate: "2025-04-01",
        durableObjects: { PROXY: { className: "Proxy", useSQLite: true } },
      });
      await mf.ready;
    });
    afterAll(() => mf.dispose());
    const dispatch = (path: string) =>
      mf.dispatchFetch(`http://localhost${path}`) as unknown as Promise<Response>;

    it("from the Worker", () => streamsThrough(dispatch, "/worker"));
    it("from an object", () => streamsThrough(dispatch, "/object"));
    it("read in the Worker as it arrives", async () => {
      const res = await dispatch(`/first-chunk?upstream=${encodeURIComponent(upstreamUrl)}`);
      expect(await res.json()).toEqual({ first: "data: 1\n\n" });
    });
  });

  describe("under Terrarium", () => {
    it("from the Worker, from an object, and read in the Worker as it arrives", async () => {
      const { engine } = await engines.open("outbound-stream");
      const port = await engine.listen(0);
      const dispatch = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
      await streamsThrough(dispatch, "/worker");
      await streamsThrough(dispatch, "/object");
      const res = await dispatch(`/first-chunk?upstream=${encodeURIComponent(upstreamUrl)}`);
      expect(await res.json()).toEqual({ first: "data: 1\n\n" });
    });
  });
});
