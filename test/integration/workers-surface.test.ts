import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Engine } from "../../runtime/engine.ts";
import { CLOUDFLARE_MODULES } from "../../runtime/workers-api/modules.ts";
import { openEngine, request, tempProject, until } from "../helpers/project.ts";

/**
 * The Workers runtime surface in real worker threads: the globals workerd
 * has, every cloudflare:* module loading with workerd's exports, and the
 * APIs Terrarium cannot simulate failing clearly when called.
 */

/** Each module's exports under workerd 1.20260426 (Object.keys of the namespace, sorted). */
const WORKERD_EXPORTS: Record<string, string[]> = {
  "cloudflare:workers": [
    "DurableObject",
    "RpcPromise",
    "RpcProperty",
    "RpcStub",
    "RpcTarget",
    "ServiceStub",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "cache",
    "env",
    "exports",
    "tracing",
    "waitUntil",
    "withEnv",
    "withEnvAndExports",
    "withExports",
  ],
  "cloudflare:email": ["EmailMessage"],
  "cloudflare:sockets": ["connect", "internalNewHttpClient"],
  "cloudflare:workflows": ["NonRetryableError"],
  "cloudflare:ai": [
    "Ai",
    "AiGateway",
    "AiGatewayInternalError",
    "AiGatewayLogNotFound",
    "AutoRAG",
    "AutoRAGInternalError",
    "AutoRAGNotFoundError",
    "AutoRAGUnauthorizedError",
    "InferenceUpstreamError",
    "ToMarkdownService",
  ],
  "cloudflare:br": ["BrowserRendering"],
  "cloudflare:node": ["handleAsNodeRequest", "httpServerHandler"],
  "cloudflare:pipelines": ["PipelineTransformationEntrypoint"],
  "cloudflare:vectorize": ["DistanceMetric", "KnownModel", "MetadataRetrievalLevel"],
};

function notAvailable(api: string): { name: string; message: string } {
  return {
    name: "NotAvailableInTerrariumError",
    message: expect.stringContaining(`${api} is not available in Terrarium`) as unknown as string,
  };
}

describe("the Workers surface (fixture: surface)", () => {
  let project: ReturnType<typeof tempProject>;
  let engine: Engine;

  beforeAll(async () => {
    project = tempProject("surface");
    engine = await openEngine(project.dir, project.dataDir);
  });
  afterAll(async () => {
    await engine?.close();
    project.cleanup();
  });

  const expected = {
    openAtLoad: 1,
    constants: [0, 1, 2, 3, 1],
    instanceOf: [true, true, true],
    userAgent: "Cloudflare-Workers",
    waited: true,
    cacheMiss: true,
    cacheOpen: "function",
    digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    closeEvent: ["close", 1000, "bye", true],
    messageEvent: ["message", "hi"],
    reported: ["Uncaught Error: reported"],
    selfIsGlobal: true,
    structuredClone: { a: [1, "1970-01-01T00:00:00.000Z"] },
    nonRetryable: ["NonRetryableError", "stop", true],
    email: ["a@example.com", "b@example.com"],
    connect: notAvailable("connect() from cloudflare:sockets"),
    ai: notAvailable("Ai from cloudflare:ai"),
    htmlRewriter: notAvailable("HTMLRewriter.transform()"),
    outboundWebSocket: notAvailable("new WebSocket(url) (outbound WebSocket clients)"),
  };

  it("gives the entry Worker workerd's globals, and clear errors for what Terrarium cannot do", async () => {
    const r = await request(engine, "GET", "/");
    expect(r.status).toBe(200);
    expect(r.json).toEqual(expected);
  });

  it("gives a Durable Object the same", async () => {
    const r = await request(engine, "GET", "/object/behaviour");
    expect(r.status).toBe(200);
    expect(r.json).toEqual(expected);
  });

  it("loads every cloudflare:* module with workerd's exports", async () => {
    expect(Object.keys(CLOUDFLARE_MODULES).sort()).toEqual(Object.keys(WORKERD_EXPORTS).sort());
    expect((await request(engine, "GET", "/modules")).json).toEqual(WORKERD_EXPORTS);
  });

  it("gives RpcStub, exports (the Durable Object namespaces) and tracing from cloudflare:workers", async () => {
    const r = await request(engine, "GET", "/workers-api");
    expect(r.json).toEqual({
      stub: [true, "hello rpc"],
      exportsIsNamespace: true,
      fromExports: { hits: expect.any(Number) as unknown },
      span: [false, 42],
    });
  });

  it("keeps a socket working after user code assigns its own id, tags and state to it (PartyServer)", async () => {
    const port = await engine.listen(0);
    const open = (id: string): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/party?id=${id}`);
        ws.once("open", () => resolve(ws));
        ws.once("error", reject);
      });
    const [a, b] = [await open("conn-a"), await open("conn-b")];
    try {
      const reply = new Promise<string>((resolve) => a.once("message", (d: Buffer) => resolve(d.toString())));
      a.send("hi");
      expect(await reply).toBe("conn-a said hi; open: conn-a,conn-b");
    } finally {
      a.terminate();
      b.terminate();
    }
  });

  it("reads env from cloudflare:workers, and withEnv overrides it for the call it wraps", async () => {
    expect((await request(engine, "GET", "/env")).json).toEqual({
      imported: "surface",
      namespaces: ["PARTY", "PROBE"],
      withEnv: "other",
      after: "surface",
    });
  });

  it("reports an unhandled rejection once, as workerd does, without ending the object", async () => {
    const first = (await request(engine, "GET", "/object/reject")).json as { hits: number };
    const reported = (): string[] =>
      engine.registry
        .logs(null)
        .map((l) => l.message)
        .filter((m) => m.startsWith("Uncaught (in promise) Error: nobody catches this"));
    await until(() => reported().length > 0, "the reported entries");
    // Both handlers would log in the same tick, so a second line would be here already.
    expect(reported()).toHaveLength(1);
    expect((await request(engine, "GET", "/object/hits")).json).toEqual({ hits: first.hits + 1 });
  });

  it("runs waitUntil from cloudflare:workers on the object's context", async () => {
    expect((await request(engine, "GET", "/object/wait-until")).json).toEqual({ done: true, env: "surface" });
  });
});

describe("globals a project sees, by compatibility date and flags", () => {
  const NAMES = [
    "process",
    "Buffer",
    "global",
    "setImmediate",
    "clearImmediate",
    "BroadcastChannel",
    "PerformanceObserver",
    "WeakRef",
    "FinalizationRegistry",
    "MessageChannel",
    "MessagePort",
    "fetch",
    "WebSocket",
  ];
  /** `typeof X` for each name as source code, and `typeof globalThis.X` beside it. */
  const source =
    `export default { fetch() { return Response.json({\n` +
    NAMES.map((n) => `  ${JSON.stringify(n)}: [typeof ${n}, typeof globalThis.${n}],`).join("\n") +
    `\n}); } };\n`;

  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "terrarium-globals-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function seen(name: string, date: string, flags: string[]): Promise<Record<string, string>> {
    const dir = join(root, name);
    mkdirSync(join(dir, "src"), { recursive: true });
    writeFileSync(join(dir, "src", "index.ts"), source);
    writeFileSync(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({ name, main: "src/index.ts", compatibility_date: date, compatibility_flags: flags }),
    );
    const engine = await openEngine(dir, join(dir, ".data"));
    try {
      const r = await request(engine, "GET", "/");
      const out: Record<string, string> = {};
      for (const [k, [bare, prop]] of Object.entries(r.json as Record<string, [string, string]>)) {
        expect(prop, `typeof globalThis.${k} agrees with typeof ${k}`).toBe(bare);
        out[k] = bare;
      }
      return out;
    } finally {
      await engine.close();
    }
  }

  it("hides Node's globals without nodejs_compat and the ones workerd adds later before their date", async () => {
    expect(await seen("early", "2025-04-01", [])).toEqual({
      process: "undefined",
      Buffer: "undefined",
      global: "undefined",
      setImmediate: "undefined",
      clearImmediate: "undefined",
      BroadcastChannel: "undefined",
      PerformanceObserver: "undefined",
      WeakRef: "undefined",
      FinalizationRegistry: "undefined",
      MessageChannel: "undefined",
      MessagePort: "undefined",
      fetch: "function",
      WebSocket: "function",
    });
  });

  it("shows nodejs_compat's globals with the flag, and dated ones from their date or flag", async () => {
    expect(await seen("late", "2025-08-15", ["nodejs_compat"])).toEqual({
      process: "object",
      Buffer: "function",
      global: "object",
      setImmediate: "function",
      clearImmediate: "function",
      BroadcastChannel: "undefined",
      PerformanceObserver: "undefined",
      WeakRef: "function",
      FinalizationRegistry: "function",
      MessageChannel: "function",
      MessagePort: "function",
      fetch: "function",
      WebSocket: "function",
    });
    const flagged = await seen("flagged", "2025-04-01", ["enable_weak_ref"]);
    expect([flagged.WeakRef, flagged.MessageChannel]).toEqual(["function", "undefined"]);
  });
});
