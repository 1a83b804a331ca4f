import { describe, expect, it } from "vitest";
import { McpRelay } from "../../../runtime/cli/mcp-relay.ts";

// The supervisor's relay of an MCP session (runtime/cli/mcp-relay.ts); the
// real thing, with an engine process that dies, is in
// test/reliability/supervisor-mcp.test.ts.

const line = (m: unknown): string => `${JSON.stringify(m)}\n`;
const init = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18" } };
const initialized = { jsonrpc: "2.0", method: "notifications/initialized" };

function relay(): { r: McpRelay; client: unknown[]; engine: unknown[][] } {
  const client: unknown[] = [];
  const engine: unknown[][] = [];
  const r = new McpRelay((l) => client.push(JSON.parse(l)));
  return { r, client, engine };
}

function attach(r: McpRelay, engine: unknown[][], restarted: boolean): void {
  const got: unknown[] = [];
  engine.push(got);
  r.attach((l) => got.push(JSON.parse(l)), restarted);
}

describe("the MCP relay", () => {
  it("passes lines both ways, split or joined as they come", () => {
    const { r, client, engine } = relay();
    attach(r, engine, false);
    const call = line({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    r.fromClient(line(init) + call.slice(0, 10));
    r.fromClient(call.slice(10));
    expect(engine[0]).toEqual([init, { jsonrpc: "2.0", id: 1, method: "tools/list" }]);
    expect(r.pending).toBe(2);
    const answer = line({ jsonrpc: "2.0", id: 1, result: { tools: [] } });
    r.fromEngine(answer.slice(0, 5));
    r.fromEngine(answer.slice(5));
    expect(client).toEqual([{ jsonrpc: "2.0", id: 1, result: { tools: [] } }]);
    expect(r.pending).toBe(1);
  });

  it("answers the calls a dead engine had, replays the session to the next, and sends what waited", () => {
    const { r, client, engine } = relay();
    attach(r, engine, false);
    r.fromClient(line(init));
    r.fromEngine(line({ jsonrpc: "2.0", id: 0, result: { capabilities: {} } }));
    r.fromClient(line(initialized));
    r.fromClient(line({ jsonrpc: "2.0", id: "a", method: "tools/call", params: { name: "x" } }));

    r.detach("the engine process ended before answering: boom");
    expect(client.at(-1)).toEqual({
      jsonrpc: "2.0",
      id: "a",
      error: { code: -32603, message: "the engine process ended before answering: boom" },
    });
    expect(r.pending).toBe(0);

    // Sent while no engine runs: it waits, and is not answered with an error.
    r.fromClient(line({ jsonrpc: "2.0", id: 2, method: "tools/list" }));
    expect(client).toHaveLength(2);

    attach(r, engine, true);
    const replayed = engine[1]!;
    expect(replayed[0]).toMatchObject({ method: "initialize", params: init.params });
    expect((replayed[0] as { id: unknown }).id).not.toBe(0);
    expect(replayed.slice(1)).toEqual([initialized, { jsonrpc: "2.0", id: 2, method: "tools/list" }]);

    // The answer to the replay is the relay's; the client never sees it.
    r.fromEngine(line({ jsonrpc: "2.0", id: (replayed[0] as { id: unknown }).id, result: {} }));
    expect(client).toHaveLength(2);
    r.fromEngine(line({ jsonrpc: "2.0", id: 2, result: { tools: [] } }));
    expect(client.at(-1)).toEqual({ jsonrpc: "2.0", id: 2, result: { tools: [] } });
    expect(r.pending).toBe(0);
  });
});
