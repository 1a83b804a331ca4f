import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterEach, describe, expect, it } from "vitest";

// `terrarium mcp` as an MCP client starts it: a child process over stdio,
// driven by the SDK's own Client.

const BIN = resolve(import.meta.dirname, "..", "..", "bin", "terrarium.js");
const SAMPLE = resolve(import.meta.dirname, "..", "..", "resources", "samples", "counter");

interface Session {
  client: Client;
  dir: string;
  stderr: () => string;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempCounter(): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), "terrarium-mcp-"));
  const dir = join(root, "project");
  cpSync(SAMPLE, dir, { recursive: true });
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return { root, dir };
}

async function connect(args: string[] = []): Promise<Session> {
  const { root, dir } = tempCounter();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, "mcp", dir, "--data", join(root, "data"), ...args],
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: "terrarium-test", version: "1.0.0" });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, dir, stderr: () => err };
}

type ToolResult = { isError?: boolean; content: { type: string; text?: string }[] };

async function call(s: Session, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await s.client.callTool({ name, arguments: args })) as ToolResult;
}

/** A tool's JSON answer; fails the test with the tool's message when it refused. */
async function value<T = Record<string, unknown>>(
  s: Session,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const r = await call(s, name, args);
  if (r.isError) throw new Error(`${name} refused: ${r.content[0]?.text}`);
  return JSON.parse(r.content[0]!.text!) as T;
}

describe("terrarium mcp", () => {
  it("lists reads and safe actions only, reads objects and storage, and refuses writes", async () => {
    const s = await connect();
    const names = (await s.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["list_classes", "list_objects", "query_storage", "send_request", "run_load"]),
    );
    for (const w of ["add_class", "update_class_code", "rollback_class", "export_project"])
      expect(names).not.toContain(w);

    const sent = await value<{ status: number; body: string }>(s, "send_request", {
      method: "POST",
      path: "/counter/ada/increment",
    });
    expect(sent.status).toBe(200);
    expect(JSON.parse(sent.body)).toEqual({ name: "ada", value: 1 });

    const classes = await value<{ className: string; objects: number }[]>(s, "list_classes");
    expect(classes).toEqual([expect.objectContaining({ className: "Counter", objects: 1 })]);
    const { objects } = await value<{ objects: { id: string; name: string }[] }>(s, "list_objects");
    expect(objects.map((o) => o.name)).toEqual(["ada"]);
    const id = objects[0]!.id;

    const object = await value(s, "get_object", { objectId: id });
    expect(object).toMatchObject({ className: "Counter", name: "ada", requests: 1, sockets: [] });
    type Why = { awake: boolean; reasons: { blocks: boolean }[] };
    const { until } = await import("../helpers/project.ts");
    await until(
      async () => !(await value<Why>(s, "why_awake", { objectId: id })).reasons.some((r) => r.blocks),
      "the request's end to be counted",
    );
    expect((await value<Why>(s, "why_awake", { objectId: id })).awake).toBe(true);
    const wake = await value<{ wasAwake: boolean; lost: unknown[] }>(s, "hibernate_and_wake", {
      objectId: id,
    });
    expect(wake).toMatchObject({ wasAwake: true, lost: [] });
    const rows = await value<{ rows: unknown[][]; columns: string[] }>(s, "query_storage", {
      objectId: id,
      sql: "SELECT name, value FROM counts",
    });
    expect(rows).toMatchObject({ columns: ["name", "value"], rows: [["n", 1]] });
    const transitions = await value<{ to: string }[]>(s, "transitions", { objectId: id });
    expect(transitions.map((t) => t.to)).toEqual(expect.arrayContaining(["Created", "Initializing"]));

    // Read-only SQL stays read-only, and the object is unchanged.
    const write = await call(s, "query_storage", { objectId: id, sql: "DELETE FROM counts" });
    expect(write.isError).toBe(true);
    expect(write.content[0]!.text).toMatch(/read-only|readonly|writes/i);
    const after = await value<{ rows: unknown[][] }>(s, "query_storage", {
      objectId: id,
      sql: "SELECT value FROM counts",
    });
    expect(after.rows).toEqual([[1]]);

    // Bad arguments get the schema's words, not a crash.
    const bad = await call(s, "get_object", { objectId: "nope" });
    expect(bad.isError).toBe(true);
    expect(bad.content[0]!.text).toMatch(/64 lower-case hex digits/);

    // A write tool is not there without --allow-writes.
    const refused = await call(s, "update_class_code", { className: "Counter", code: "x" });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toMatch(/update_class_code/);
    expect(readFileSync(join(s.dir, "src", "index.ts"), "utf8")).toBe(
      readFileSync(join(SAMPLE, "src", "index.ts"), "utf8"),
    );
  });

  it("with --allow-writes updates a class's code, refusing code that does not build, and exports", async () => {
    const s = await connect(["--allow-writes"]);
    const names = (await s.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["add_class", "update_class_code", "export_project"]));
    await value(s, "send_request", { method: "POST", path: "/counter/ada/increment" });

    const file = join(s.dir, "src", "index.ts");
    const original = readFileSync(file, "utf8");
    const broken = await call(s, "update_class_code", {
      className: "Counter",
      code: "export class Counter {",
    });
    expect(broken.isError).toBe(true);
    expect(broken.content[0]!.text).toMatch(/refused, src\/index\.ts is unchanged/);
    expect(readFileSync(file, "utf8")).toBe(original);

    const doubled = original.replace(
      "return Response.json({ name, value: await stub.get() });",
      "return Response.json({ name, value: (await stub.get()) * 10 });",
    );
    expect(doubled).not.toBe(original);
    const updated = await value(s, "update_class_code", { className: "Counter", code: doubled });
    expect(updated).toMatchObject({ ok: true, written: true, path: "src/index.ts" });
    // The storage was kept, and the new code answers.
    const read = await value<{ body: string }>(s, "send_request", { path: "/counter/ada" });
    expect(JSON.parse(read.body)).toEqual({ name: "ada", value: 10 });

    const out = join(s.dir, "..", "exported");
    const exported = await value<{ files: number }>(s, "export_project", { outDir: out });
    expect(exported.files).toBeGreaterThan(0);
    expect(existsSync(join(out, "wrangler.jsonc"))).toBe(true);
    const again = await call(s, "export_project", { outDir: out });
    expect(again.isError).toBe(true);
    expect(again.content[0]!.text).toMatch(/not empty|force/);
  });

  it("runs a load profile and answers with its summary", async () => {
    const s = await connect();
    const run = await value<{ id: string; summary: { requests: { sent: number; completed: number } } }>(
      s,
      "run_load",
      { config: { rate: 20, duration: "1s", keys: "uniform:3", requests: [{ path: "/counter/{key}" }] } },
    );
    expect(run.summary.requests.sent).toBeGreaterThan(0);
    expect(run.summary.requests.completed).toBe(run.summary.requests.sent);
    const runs = await value<{ id: string }[]>(s, "list_load_runs");
    expect(runs.map((r) => r.id)).toContain(run.id);
    const again = await value<{ id: string; seconds: number }>(s, "get_load_run", { id: run.id });
    expect(again.id).toBe(run.id);
    const cost = await value<{ scope: string; lines: { metric: string; measured: number }[] }>(
      s,
      "cost_estimate",
      { runId: run.id },
    );
    expect(cost.scope).toBe("run");
    expect(cost.lines.find((l) => l.metric === "requests")!.measured).toBe(run.summary.requests.completed);
  });

  it("exits when the client closes its stdin", async () => {
    const { root, dir } = tempCounter();
    const child = spawn(process.execPath, [BIN, "mcp", dir, "--data", join(root, "data")], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    cleanups.push(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    // Ready once it answers initialize.
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stdin.write(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
      }) + "\n",
    );
    const { until } = await import("../helpers/project.ts");
    await until(() => out.includes('"id":1'), "the answer to initialize", 60_000);
    // Nothing but protocol messages on stdout.
    for (const line of out.trim().split("\n")) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" });
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(err).toMatch(/terrarium mcp: counter-sample on http:\/\/127\.0\.0\.1:\d+/);
  });
});

describe("terrarium mcp: traces and class versions", () => {
  it("lists and reads the trace of a request it sent; class versions read-only, rollback only with --allow-writes", async () => {
    const s = await connect();
    const sent = await value<{ status: number }>(s, "send_request", {
      method: "POST",
      path: "/counter/ada/increment",
    });
    expect(sent.status).toBe(200);
    const listed = await value<{
      traces: { traceId: string; path: string; status: number; classes: string[] }[];
    }>(s, "list_traces", { path: "/counter/ada" });
    expect(listed.traces.map((t) => [t.path, t.status])).toEqual([["/counter/ada/increment", 200]]);
    const trace = await value<{
      spans: { kind: string; className: string | null; parentId: string | null }[];
    }>(s, "get_trace", { traceId: listed.traces[0]!.traceId });
    expect(trace.spans[0]).toMatchObject({ kind: "request", parentId: null });
    expect(trace.spans.some((x) => x.className === "Counter")).toBe(true);
    expect((await call(s, "get_trace", { traceId: "0".repeat(32) })).isError).toBe(true);
    expect((await call(s, "list_traces", { status: "teapot" })).isError).toBe(true);

    const versions = await value<{ className: string; versions: unknown[] }>(s, "class_versions", {
      className: "Counter",
    });
    expect(versions.className).toBe("Counter");
    expect(versions.versions.length).toBeGreaterThan(0);
    expect((await s.client.listTools()).tools.map((t) => t.name)).not.toContain("rollback_class");

    const w = await connect(["--allow-writes"]);
    expect((await w.client.listTools()).tools.map((t) => t.name)).toContain("rollback_class");
    const refused = await call(w, "rollback_class", { className: "Counter", hash: "f".repeat(64) });
    expect(refused.isError).toBe(true);
  });
});
