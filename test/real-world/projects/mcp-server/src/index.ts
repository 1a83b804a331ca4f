import { McpAgent } from "agents/mcp";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

interface State {
  calls: number;
}

/** A calculator MCP server whose session counts the calls made in it (Agent state). */
export class MyMCP extends McpAgent<Env, State> {
  server = new McpServer({ name: "Authless Calculator", version: "1.0.0" });
  initialState: State = { calls: 0 };

  async init(): Promise<void> {
    this.server.tool("add", { a: z.number(), b: z.number() }, async ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
    }));
    this.server.tool(
      "calculate",
      { operation: z.enum(["add", "subtract", "multiply", "divide"]), a: z.number(), b: z.number() },
      async ({ operation, a, b }) => {
        if (operation === "divide" && b === 0) {
          return { content: [{ type: "text", text: "Error: Cannot divide by zero" }] };
        }
        const result =
          operation === "add"
            ? a + b
            : operation === "subtract"
              ? a - b
              : operation === "multiply"
                ? a * b
                : a / b;
        return { content: [{ type: "text", text: String(result) }] };
      },
    );
    this.server.tool("count", {}, async () => {
      this.setState({ calls: this.state.calls + 1 });
      return { content: [{ type: "text", text: `call ${this.state.calls} in this session` }] };
    });
  }
}

interface Env {
  MCP_OBJECT: DurableObjectNamespace<MyMCP>;
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/mcp") return MyMCP.serve("/mcp").fetch(request, env, ctx);
    return new Response("Not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
