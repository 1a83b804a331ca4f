import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createMcpServer } from "../api/mcp-server.ts";
import {
  fail,
  graceFlag,
  intFlag,
  lifecycleFlags,
  projectFolder,
  REPO_ROOT,
  startEngine,
  stopOnSignals,
  usageError,
} from "./common.ts";
import { controlApi } from "../api/control-api.ts";
import { parseCommand } from "./commands.ts";

/**
 * Stdout belongs to the MCP protocol: one stray line there breaks the
 * client. The transport gets the real stdout; anything else written to it
 * (a dependency's console.log) goes to stderr instead.
 */
function claimStdout(): Writable {
  const write = process.stdout.write.bind(process.stdout);
  const protocol = new Writable({
    write(chunk: Buffer, _enc, done) {
      write(chunk, (e) => done(e ?? null));
    },
  });
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return protocol;
}

/**
 * `terrarium mcp`: the engine on a project, and the control API as MCP tools
 * over stdio for a coding agent. Everything but the protocol goes to stderr.
 * Run by the supervisor (supervise.ts), which relays stdio to it
 * (mcp-relay.ts), or directly with --no-supervisor.
 * It ends when the client closes stdin or the parent process ends, as well
 * as on SIGINT/SIGTERM.
 */
export async function mcp(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("mcp", argv);
  const protocolOut = claimStdout();
  const projectDir = projectFolder(positionals);
  const port = intFlag(values.port, "port") ?? 0;
  if (port > 65_535) usageError("a port is at most 65535");
  const graceMs = graceFlag(values.grace);
  // Stdout is the protocol's (claimStdout): what the engine reports goes to stderr.
  const { engine, supervisor } = await startEngine(
    { projectDir, data: values.data, options: {} },
    lifecycleFlags(values),
    values,
  );

  let actual: number;
  try {
    actual = await engine.listen(port, "127.0.0.1", supervisor?.handles.get("router"));
  } catch (e) {
    await engine.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE") fail(`port ${port} is in use; pick another with --port`);
    throw e;
  }
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    version: string;
  };
  const server = createMcpServer(controlApi(engine), { allowWrites: values["allow-writes"], version });
  await server.connect(new StdioServerTransport(process.stdin, protocolOut));
  process.stderr.write(
    `terrarium mcp: ${engine.project.wrangler.name} on http://127.0.0.1:${actual}, ` +
      `write tools ${values["allow-writes"] ? "on" : "off (--allow-writes turns them on)"}\n`,
  );
  const failure = engine.lifecycle.loadFailure;
  if (failure) process.stderr.write(`terrarium: ${failure}; requests answer 500 until the code is fixed\n`);

  stopOnSignals({
    graceMs,
    exitOnStdinClose: true,
    stop: async () => {
      await server.close();
      return engine.close({ graceMs });
    },
  });
  // Only now: a SIGTERM the supervisor sends once it hears this must find the handler above.
  supervisor?.ready(actual, engine.lifecycle.options.memoryLimitMb);
}
