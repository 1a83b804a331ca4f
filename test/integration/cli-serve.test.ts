import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run, servedPerTest } from "../helpers/cli.ts";

const cli = servedPerTest();

describe("terrarium serve", () => {
  it("serves a project over HTTP on 127.0.0.1 and stops cleanly on SIGTERM", async () => {
    const project = cli.project("kitchen");
    const served = await cli.serve(project.dir, ["--data", project.dataDir]);
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const a = await fetch(`${served.url}/count/http`, { method: "POST" });
    expect(a.status).toBe(200);
    expect(await a.json()).toMatchObject({ value: 1, name: "http" });
    // In-flight requests finish when the signal comes.
    const pending = Promise.all(
      Array.from({ length: 20 }, () => fetch(`${served.url}/count/http/slow-incr`, { method: "POST" })),
    );
    const responses = await pending;
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(await served.stop("SIGTERM")).toBe(0);
  });

  it("restarts on the same data with the object's storage intact", async () => {
    const project = cli.project("kitchen");
    let served = await cli.serve(project.dir, ["--data", project.dataDir]);
    await fetch(`${served.url}/count/keep`, { method: "POST" });
    expect(await served.stop()).toBe(0);
    served = await cli.serve(project.dir, ["--data", project.dataDir]);
    const r = await fetch(`${served.url}/read/keep`);
    expect(await r.json()).toEqual({ stored: 1, memory: 0 });
  });

  it("refuses a broken config with the file and field, and starts nothing", async () => {
    const project = cli.project("kitchen");
    writeFileSync(
      join(project.dir, "wrangler.jsonc"),
      `{ "main": "src/index.ts", "compatibility_date": 2025 }`,
    );
    const r = await run(["serve", project.dir, "--port", "0"]);
    expect(r.code).toBe(1);
    expect(r.output).toContain("terrarium: wrangler.jsonc: compatibility_date:");
    expect(r.output).not.toContain("Ready on");
  });

  it("reports a compile error with file:line:column", async () => {
    const project = cli.project("kitchen");
    writeFileSync(join(project.dir, "src", "index.ts"), "export default {\n  fetch( {\n}\n");
    const r = await run(["serve", project.dir, "--port", "0"]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/terrarium: src\/index\.ts:\d+:\d+: /);
  });

  it("keeps serving when a request is malformed", async () => {
    const project = cli.project("kitchen");
    const served = await cli.serve(project.dir, ["--data", project.dataDir]);
    const { request } = await import("node:http");
    const url = new URL(served.url);
    const status = await new Promise<number>((resolve) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: "POST",
          path: "/count/x",
          headers: { "content-length": "10" },
        },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on("error", () => resolve(-1));
      req.end("abc"); // shorter than promised, then closed
      setTimeout(() => req.destroy(), 200);
    });
    expect(status === -1 || status >= 400 || status === 200).toBe(true);
    expect((await fetch(`${served.url}/count/after`, { method: "POST" })).status).toBe(200);
  });
});
