import { http, STEP_TIMEOUT_MS, type Runtime } from "../harness.ts";

/**
 * Cloudflare's remote MCP server template: an McpAgent behind
 * McpAgent.serve("/mcp"). Each POST is relayed by the entry Worker to the
 * session's Durable Object over a WebSocket and streamed back as
 * server-sent events.
 */

interface McpAnswer {
  status: number;
  contentType: string | null;
  /** The JSON-RPC messages in the event stream (or the JSON body). */
  messages: unknown[];
}

let session: string | null = null;

async function post(rt: Runtime, body: unknown, withSession = true): Promise<McpAnswer> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  if (withSession && session) headers["mcp-session-id"] = session;
  if (withSession && session) headers["mcp-protocol-version"] = "2025-06-18";
  const response = await fetch(new URL("/mcp", rt.url), {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  const id = response.headers.get("mcp-session-id");
  if (id && !session) session = id;
  const text = await response.text();
  const contentType = response.headers.get("content-type");
  const messages = contentType?.startsWith("text/event-stream")
    ? text
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => JSON.parse(line.slice(6)) as unknown)
    : text
      ? [parsed(text)]
      : [];
  return { status: response.status, contentType, messages };
}

/** A JSON body as its value; any other text as it is (an error page, say). */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The session id is random: shown by its shape. */
function sessionShape(): string {
  return session && /^[0-9a-f]{64}$/.test(session) ? "<64 hex digits>" : String(session);
}

let ids = 0;
function rpc(method: string, params: unknown = {}): unknown {
  return { jsonrpc: "2.0", id: ++ids, method, params };
}

export async function scenario(rt: Runtime, note: (label: string, seen: unknown) => void): Promise<void> {
  session = null;
  ids = 0;
  note("GET / is not the MCP endpoint", await http(rt, "GET", "/"));
  note("a call without a session", await post(rt, rpc("tools/list"), false));
  note(
    "initialize",
    await post(
      rt,
      rpc("initialize", {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "terrarium-test", version: "1.0.0" },
      }),
    ),
  );
  note("the session id", sessionShape());
  note("notifications/initialized", await post(rt, { jsonrpc: "2.0", method: "notifications/initialized" }));
  note("tools/list", await post(rt, rpc("tools/list")));
  note("add(2, 3)", await post(rt, rpc("tools/call", { name: "add", arguments: { a: 2, b: 3 } })));
  note(
    "calculate divide by zero",
    await post(rt, rpc("tools/call", { name: "calculate", arguments: { operation: "divide", a: 1, b: 0 } })),
  );
  note("count", await post(rt, rpc("tools/call", { name: "count", arguments: {} })));

  await rt.hibernated("MyMCP");
  note("count after hibernation", await post(rt, rpc("tools/call", { name: "count", arguments: {} })));

  await rt.restart();
  note("count after a restart", await post(rt, rpc("tools/call", { name: "count", arguments: {} })));
  note("an unknown tool", await post(rt, rpc("tools/call", { name: "nope", arguments: {} })));
}
