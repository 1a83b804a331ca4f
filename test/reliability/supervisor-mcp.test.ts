import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterEach, describe, expect, it } from "vitest";
import { descendants, running } from "../helpers/processes.ts";
import { BIN, enginePid, figure, sandbox, until, type Sandbox } from "./harness.ts";

// `terrarium mcp` under the supervisor (docs/reliability.md, "An allocation
// that aborts the process"): the same fault as supervisor.test.ts, met
// through an MCP session. The supervisor relays the session's stdio to the
// engine's process: the call in flight when the process died is answered
// with an error saying why, the engine restarts, and the same session goes on.

let box: Sandbox | null = null;
let client: Client | null = null;
let pids: number[] = [];

afterEach(async () => {
  await client?.close().catch(() => {});
  client = null;
  for (const p of pids) if (running(p)) process.kill(p, "SIGKILL");
  pids = [];
  box?.cleanup();
  box = null;
});

/** Any single answer, the restart included, on a busy machine. */
const ANSWER_BOUND_MS = 120_000;

interface Sent {
  status: number;
  body: string;
}

async function send(c: Client, path: string): Promise<Sent> {
  const r = (await c.callTool({ name: "send_request", arguments: { method: "GET", path } }, undefined, {
    timeout: ANSWER_BOUND_MS,
  })) as { isError?: boolean; content: { text?: string }[] };
  if (r.isError) throw new Error(`send_request refused: ${r.content[0]?.text}`);
  return JSON.parse(r.content[0]!.text!) as Sent;
}

describe("terrarium mcp: an allocation that aborts the engine process", () => {
  it("answers the call in flight with the reason, restarts the engine, and the session goes on", async () => {
    box = sandbox("faults");
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, "mcp", box.dir, "--data", box.dataDir, "--no-watch", "--quiet"],
      stderr: "pipe",
    });
    let err = "";
    transport.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    client = new Client({ name: "terrarium-supervisor-test", version: "1.0.0" });
    await client.connect(transport);
    const supervisor = transport.pid!;
    pids.push(supervisor);
    const firstEngine = enginePid(supervisor);
    expect(firstEngine).not.toBeNull();
    pids.push(firstEngine!);

    expect((await send(client, "/rows/good/1")).status).toBe(200);

    // The culprit's call: the engine's process dies under it; the relay answers it with the reason.
    const culprit = await send(client, "/hog-big/b").then(
      (r) => `answered ${r.status}`,
      (e: Error) => e.message,
    );
    expect(culprit).toMatch(/the Terrarium engine process ended before answering/);
    expect(culprit).toMatch(/Durable Object Bad "hog-big-b" .* ran out of memory/);

    await until(() => /serving again/.test(err), "the engine to serve again", ANSWER_BOUND_MS);
    figure("mcp: time to serve again", /serving again, (\d+) ms after/.exec(err)?.[1] ?? "?");
    const secondEngine = enginePid(supervisor);
    expect(secondEngine).not.toBeNull();
    expect(secondEngine).not.toBe(firstEngine);
    pids.push(secondEngine!);

    // The same session, on the new engine: the answered write is there, a new one is answered.
    expect((await send(client, "/rows/good/2")).status).toBe(200);
    const kept = JSON.parse((await send(client, "/rows-seqs/good")).body) as number[];
    expect(kept.sort((a, b) => a - b)).toEqual([1, 2]);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain("send_request");

    // The culprit's next request: refused once, with the reason; the one after runs the object.
    const refused = await send(client, "/hog-big/b");
    expect(refused.status).toBe(500);
    expect(refused.body).toMatch(/Durable Object Bad [0-9a-f]{64} was reset: it ran out of memory/);
    const pong = await send(client, "/ping/hog-big-b");
    expect(pong.status).toBe(200);

    // The client closing the session ends the supervisor and the engine's process.
    const family = [supervisor, ...descendants(supervisor)];
    await client.close();
    client = null;
    await until(() => family.every((p) => !running(p)), "the supervisor and the engine process to end");
  }, 300_000);
});
