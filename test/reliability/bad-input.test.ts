import { connect, type Socket } from "node:net";
import { request as httpRequest } from "node:http";
import { Readable } from "node:stream";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startWebBridge, type WebBridge } from "../../runtime/api/web-bridge.ts";
import type { Engine } from "../../runtime/engine.ts";
import { openEngine } from "../helpers/project.ts";
import { figure, runCli, sandbox, startServe, type Sandbox, type Server } from "./harness.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

// Bad input (docs/reliability.md, "Bad input"): broken projects, malformed
// HTTP and WebSocket traffic, invalid ids, bad SQL and paths that try to
// leave the project. Every case must end in a clear error: nothing crashes,
// nothing hangs, nothing is written outside the project or the data folder.

const CORPUS = resolve(import.meta.dirname, "corpus", "projects");

/** The tally the suite prints: every case tried, and how it ended. */
const tally = { tried: 0, clear: 0, crashes: 0, hangs: 0 };

function count(outcome: "clear" | "crash" | "hang"): void {
  tally.tried++;
  if (outcome === "clear") tally.clear++;
  else if (outcome === "crash") tally.crashes++;
  else tally.hangs++;
}

/** Files under `dir`, relative, without following links, to see that nothing new appeared. */
function listing(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    out.push(prefix + e.name);
    if (e.isDirectory()) out.push(...listing(join(dir, e.name), `${prefix}${e.name}/`));
  }
  return out.sort();
}

afterAll(() => {
  figure(
    "bad input",
    `${tally.tried} tried, ${tally.clear} clear errors, ${tally.crashes} crashes, ${tally.hangs} hangs`,
  );
});

describe("broken projects", () => {
  const cases = readdirSync(CORPUS).sort();

  it.each(cases)(
    "refuses %s with a clear one-line error, and starts nothing",
    async (name) => {
      const box = sandbox("faults");
      try {
        rmSync(join(box.dir, "terrarium.json"));
        const caseDir = join(CORPUS, name);
        for (const f of readdirSync(caseDir)) {
          if (f === "expect.txt" || f === "REMOVE") continue;
          cpSync(join(caseDir, f), join(box.dir, f), { recursive: true });
        }
        if (existsSync(join(caseDir, "REMOVE"))) {
          for (const f of readFileSync(join(caseDir, "REMOVE"), "utf8").trim().split("\n"))
            rmSync(join(box.dir, f));
        }
        const before = listing(box.root).filter((f) => !f.startsWith("data"));
        const expected = new RegExp(readFileSync(join(caseDir, "expect.txt"), "utf8").trim());
        const r = await runCli(
          ["serve", box.dir, "--port", "0", "--data", box.dataDir, "--no-watch"],
          60_000,
        );
        const crashed = /\n\s+at /.test(r.output) || typeof r.code === "string";
        count(r.timedOut ? "hang" : crashed ? "crash" : "clear");
        expect(r.timedOut, r.output).toBe(false);
        expect(r.output).not.toContain("Ready on");
        expect(r.code, r.output).toBe(1);
        expect(r.output).toMatch(/^terrarium: /);
        expect(r.output.trim().split("\n"), "one line").toHaveLength(1);
        expect(r.output).toMatch(expected);
        // Nothing written but the data folder.
        expect(listing(box.root).filter((f) => !f.startsWith("data"))).toEqual(before);
      } finally {
        box.cleanup();
      }
    },
    90_000,
  );
});

/** Sends raw bytes on a new connection and resolves with all the server answered before closing (bounded). */
function raw(port: number, send: (s: Socket) => void, boundMs = 20_000): Promise<string> {
  return new Promise((ok, fail) => {
    const s = connect(port, "127.0.0.1");
    let got = "";
    const timer = setTimeout(() => {
      s.destroy();
      fail(new Error(`no end within ${boundMs} ms; got: ${got.slice(0, 200)}`));
    }, boundMs);
    s.on("data", (d: Buffer) => (got += d.toString("latin1")));
    s.on("error", () => undefined);
    s.on("close", () => {
      clearTimeout(timer);
      ok(got);
    });
    s.on("connect", () => send(s));
  });
}

/** POSTs `bytes` of zeros, streamed in 1 MiB chunks (never held whole), and resolves with the answer. */
function postStream(url: string, bytes: number): Promise<{ status: number; body: string }> {
  const chunk = Buffer.alloc(1024 * 1024);
  let left = bytes;
  const body = new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
  return new Promise((ok, fail) => {
    const req = httpRequest(
      url,
      { method: "POST", headers: { "content-length": String(bytes) }, signal: AbortSignal.timeout(60_000) },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => ok({ status: res.statusCode ?? 0, body: text }));
        res.on("error", fail);
      },
    );
    req.on("error", fail);
    body.pipe(req);
  });
}

describe("malformed traffic to the router", () => {
  let box: Sandbox;
  let server: Server;

  beforeAll(async () => {
    box = sandbox("faults");
    server = await startServe(box, ["--quiet", "--cpu-limit", "500"]);
    return async () => {
      await server.kill9();
      box.cleanup();
    };
  }, 90_000);

  /** Runs one case: it must end in a clear answer, and the server must still serve. */
  const check = async (what: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (e) {
      count(/no end within|aborted due to timeout/.test(String(e)) ? "hang" : "crash");
      throw new Error(`${what}: ${String(e)}`);
    }
    const alive = await fetch(`${server.url}/good/alive`).then(
      (r) => r.status === 200,
      () => false,
    );
    count(alive && server.child.exitCode === null ? "clear" : "crash");
    expect(alive, `the server serves after ${what}`).toBe(true);
  };

  it("answers a bad request line with 400", async () => {
    await check("a bad request line", async () => {
      const got = await raw(server.port, (s) => s.write("GARBAGE / NOT-HTTP\r\n\r\n"));
      expect(got).toMatch(/^HTTP\/1\.1 400 /);
    });
  });

  it("answers headers past the limit with 431", async () => {
    await check("huge headers", async () => {
      const got = await raw(server.port, (s) =>
        s.write(`GET /good/g HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(200_000)}\r\n\r\n`),
      );
      expect(got).toMatch(/^HTTP\/1\.1 431 /);
    });
  });

  it("takes a 100 MB body and refuses one byte more with 413", async () => {
    await check("a 100 MB body", async () => {
      const at = await postStream(`${server.url}/good/big`, 100 * 1024 * 1024);
      expect(at.status).toBe(200);
      const over = await postStream(`${server.url}/good/big`, 100 * 1024 * 1024 + 1);
      expect(over.status).toBe(413);
      expect(over.body).toMatch(/request body too large/);
    });
  }, 120_000);

  it("keeps serving others while a client sends its headers one byte at a time", async () => {
    await check("a slow client", async () => {
      const slow = connect(server.port, "127.0.0.1");
      slow.on("error", () => undefined);
      await new Promise((r) => slow.once("connect", r));
      const text = "GET /good/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
      let i = 0;
      const drip = setInterval(() => slow.write(text[i++ % text.length]!), 20);
      try {
        for (let n = 0; n < 20; n++) {
          const r = await fetch(`${server.url}/good/fast`, { signal: AbortSignal.timeout(20_000) });
          expect(r.status).toBe(200);
        }
      } finally {
        clearInterval(drip);
        slow.destroy();
      }
    });
  });

  it.each([
    ["not hex", "zz"],
    ["too short", "ab"],
    ["another namespace's id", "0".repeat(64)],
  ])("refuses an invalid object id (%s) with a clear 500", async (_what, id) => {
    await check(`object id ${id}`, async () => {
      const r = await fetch(`${server.url}/id/${id}`, { signal: AbortSignal.timeout(20_000) });
      expect(r.status).toBe(500);
      expect(await r.text()).toMatch(/Invalid Durable Object ID|id/i);
    });
  });

  it.each([
    ["an unmasked frame", Buffer.from([0x81, 0x02, 0x68, 0x69])],
    ["a reserved opcode", Buffer.from([0x83, 0x80, 1, 2, 3, 4])],
    [
      "a frame claiming 2^63 bytes",
      Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]),
    ],
    ["random bytes", Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 97 + 13) % 256))],
  ])("closes a WebSocket that sends %s", async (_what, frame) => {
    await check(`a WebSocket sending garbage`, async () => {
      const got = await raw(server.port, (s) => {
        s.write(
          "GET /ws/x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        );
        s.once("data", () => s.write(frame));
      });
      expect(got).toMatch(/^HTTP\/1\.1 101 /);
      // A valid socket still echoes afterwards.
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws/y`);
      const echoed = await new Promise<string>((ok, fail) => {
        ws.on("open", () => ws.send("hello"));
        ws.on("message", (d) => ok(String(d)));
        ws.on("error", fail);
      });
      ws.close();
      expect(echoed).toBe("hello");
    });
  });
});

describe("bad calls to the control API", () => {
  let box: Sandbox;
  let engine: Engine;
  let objectId: string;

  beforeAll(async () => {
    box = sandbox("faults");
    engine = await openEngine(box.dir, box.dataDir);
    const r = await controlApi(engine).sendRequest({ method: "POST", path: "/rows/sql/1" });
    expect(r.status).toBe(200);
    objectId = (await controlApi(engine).listObjects({ search: "sql" })).objects[0]!.id;
    return async () => {
      await engine.close();
      box.cleanup();
    };
  }, 90_000);

  /** A call that must be refused with an error naming `message`; the engine keeps answering. */
  const refused = async (what: string, call: () => Promise<unknown>, message: RegExp): Promise<void> => {
    const t = performance.now();
    let error: unknown = null;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    const ms = performance.now() - t;
    count(error instanceof Error && message.test(error.message) ? "clear" : ms > 20_000 ? "hang" : "crash");
    expect(error, what).toBeInstanceOf(Error);
    expect((error as Error).message, what).toMatch(message);
    expect(ms, `${what} answered in time`).toBeLessThan(20_000);
    expect((await controlApi(engine).sendRequest({ method: "GET", path: "/good/after" })).status).toBe(200);
  };

  it("refuses bad SQL and invalid object ids with the reason", async () => {
    await refused(
      "a syntax error",
      () => controlApi(engine).query({ objectId, sql: "SELEC 1" }),
      /syntax error/,
    );
    await refused(
      "no such table",
      () => controlApi(engine).query({ objectId, sql: "SELECT * FROM nope" }),
      /no such table/,
    );
    await refused(
      "a write without unlocking",
      () => controlApi(engine).query({ objectId, sql: "DELETE FROM writes" }),
      /writes/,
    );
    await refused(
      "a bad object id",
      () => controlApi(engine).query({ objectId: "../../x", sql: "SELECT 1" }),
      /objectId/,
    );
    await refused(
      "an unknown object",
      () => controlApi(engine).query({ objectId: "f".repeat(64), sql: "SELECT 1" }),
      /no object|unknown|not found/i,
    );
  });

  it("bounds a huge result", async () => {
    const t = performance.now();
    const rows = await controlApi(engine).query({
      objectId,
      sql: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x, randomblob(1000000) FROM c",
      limit: 10_000,
    });
    figure("a 10,000-row query of 1 MB blobs answered in (ms)", Math.round(performance.now() - t));
    count("clear");
    expect(rows.truncated).toBe(true);
    expect(JSON.stringify(rows.rows).length).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);

  it("stops a query that would run for ever, and answers the next one", async () => {
    await refused(
      "a query that never ends",
      () =>
        controlApi(engine).query({
          objectId,
          sql: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        }),
      /ran for more than 10 s and was stopped/,
    );
    expect(
      (await controlApi(engine).query({ objectId, sql: "SELECT count(*) AS n FROM writes" })).rows,
    ).toEqual([[1]]);
  }, 60_000);

  it("refuses every path that leaves the project, and writes nothing outside it", async () => {
    const outside = join(box.root, "outside");
    mkdirSync(outside);
    symlinkSync(outside, join(box.dir, "link-out"));
    const before = listing(box.root).filter((f) => !f.startsWith("data"));
    const paths = [
      "../outside/x.ts",
      "../../etc/passwd",
      "/etc/passwd",
      `${box.root}/outside/x.ts`,
      "src/../../outside/x.ts",
      "link-out/x.ts",
      ".terrarium/registry.sqlite",
      "node_modules/x.ts",
      "src/..\\..\\outside\\x.ts",
      "",
      ".",
    ];
    for (const p of paths) {
      await refused(
        `read ${JSON.stringify(p)}`,
        () => controlApi(engine).readFile(p),
        /project|folder|path|Invalid|characters/i,
      );
      await refused(
        `write ${JSON.stringify(p)}`,
        () => controlApi(engine).writeFile({ path: p, text: "owned" }),
        /project|folder|path|Invalid|only source|characters/i,
      );
    }
    await refused(
      "a write into the data folder",
      () => controlApi(engine).writeFile({ path: "../data/x.ts", text: "owned" }),
      /project|data/i,
    );
    symlinkSync(box.root, join(box.root, "alias"));
    await refused(
      "an export with --force over the project through a linked folder",
      () => controlApi(engine).writeExport({ outDir: join(box.root, "alias", "project"), force: true }),
      /holds the project/,
    );
    await refused(
      "an export with --force over a folder that holds the project, through a link",
      () => controlApi(engine).writeExport({ outDir: join(box.root, "alias"), force: true }),
      /holds the project/,
    );
    await refused(
      "a class named like a path",
      () => controlApi(engine).addClass({ template: "custom", className: "../../Evil", binding: "EVIL" }),
      /identifier|className/,
    );
    await refused(
      "a template named like a path",
      () => controlApi(engine).addClass({ template: "../../etc", className: "Evil", binding: "EVIL" }),
      /template/,
    );
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(box.dir, "src", "index.ts"))).toBe(true);
    expect(listing(box.root).filter((f) => !f.startsWith("data") && f !== "alias")).toEqual(before);
  }, 60_000);
});

describe("path traversal into the UI bridge's files", () => {
  let bridge: WebBridge;
  let root: string;

  beforeAll(async () => {
    const box = sandbox("faults");
    root = box.root;
    const staticDir = join(root, "renderer");
    mkdirSync(join(staticDir, "assets"), { recursive: true });
    writeFileSync(join(staticDir, "index.html"), "<!doctype html><title>t</title>");
    writeFileSync(join(staticDir, "assets", "app.js"), "1");
    writeFileSync(join(root, "secret.txt"), "SECRET");
    bridge = await startWebBridge({ api: {} as never, staticDir, token: "t".repeat(64) });
    return async () => {
      await bridge.close();
      box.cleanup();
    };
  });

  it.each([
    "/../secret.txt",
    "/assets/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/..%5csecret.txt",
    "//..//secret.txt",
    "/assets/app.js%00.html",
    "/%2F..%2Fsecret.txt",
    "/assets/%ff%fe",
  ])("never serves a file outside its folder (%s)", async (path) => {
    // Raw, so that the client does not normalise the path first.
    const got = await raw(bridge.port, (s) =>
      s.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${bridge.port}\r\nCookie: terrarium_${bridge.port}=${"t".repeat(64)}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const status = Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1]);
    count(got.includes("SECRET") ? "crash" : status >= 400 && status < 500 ? "clear" : "crash");
    expect(got).not.toContain("SECRET");
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
  });
});
