import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS, commandUsage, type CommandName } from "../../runtime/cli/commands.ts";
import { run } from "../helpers/cli.ts";
import { tempProject } from "../helpers/project.ts";

// Every command takes --help, and refuses a command line it cannot take with
// one line and exit code 2, never a stack trace; serve, ui, mcp and load do
// it through their supervisor (one process each here, as a user runs them).

const SAMPLE = resolve(import.meta.dirname, "..", "..", "resources", "samples", "aidevos");
const names = Object.keys(COMMANDS) as CommandName[];

/** The one line a refused command line gets. */
function refused(output: string, command: string, what: string): void {
  expect(output, "no stack trace").not.toMatch(/^ {4}at /m);
  expect(output.trimEnd().split("\n"), output).toHaveLength(1);
  expect(output).toBe(`terrarium ${command}: ${what} (see terrarium ${command} --help)\n`);
}

describe("terrarium <command> --help", () => {
  it.each(names)("%s --help prints its usage and exits 0, starting nothing", async (name) => {
    const r = await run(name === "kv" ? ["kv", "put", "--help"] : [name, "--help"]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toBe(commandUsage(name));
  });

  it("-h prints it too", async () => {
    expect((await run(["mcp", SAMPLE, "-h"])).output).toBe(commandUsage("mcp"));
  });

  it("help <command> prints it too", async () => {
    const r = await run(["help", "export"]);
    expect(r.code).toBe(0);
    expect(r.output).toBe(commandUsage("export"));
  });
});

describe("a command line a command cannot take", () => {
  it.each(names)("%s --bogus exits 2 with one line", async (name) => {
    const r = await run([name, "--bogus"]);
    expect(r.code, r.output).toBe(2);
    refused(r.output, name, "unknown option --bogus");
  });

  const fresh = join(tmpdir(), "terrarium-never-made");
  it.each([
    ["serve", ["--port", "abc"], '--port needs a whole number, got "abc"'],
    [
      "serve",
      [SAMPLE, "--traces", "most"],
      '--traces takes on, all, off or a rate between 0 and 1, got "most"',
    ],
    ["ui", ["--router-port", "x"], '--router-port needs a whole number, got "x"'],
    ["mcp", [SAMPLE, "--idle-after", "soon"], '--idle-after needs a whole number, got "soon"'],
    ["load", [SAMPLE, "--rate", "fast"], '--rate needs a number, got "fast"'],
    ["export", [SAMPLE, "--out"], "--out needs a value"],
    ["new", [fresh, "--name"], "--name needs a value"],
    ["snapshot", [SAMPLE, "--list=yes"], "--list takes no value"],
    ["restore", ["a", "b"], "takes one project folder, got 2"],
    [
      "reset",
      [SAMPLE, "--all", "--class", "A"],
      "takes one of: --object <id or name> [--class NAME], --class NAME, --all",
    ],
    ["versions", ["--class", "1x"], "needs --class NAME (a class of the project)"],
    [
      "rollback",
      ["--class", "A", "--version", "xyz"],
      "needs --version HASH (6 or more hex digits; terrarium versions lists them)",
    ],
    ["traces", [SAMPLE, "--limit", "0"], '--limit takes 1 to 1000, got "0"'],
    ["types", ["a", "b"], "takes at most one project folder: terrarium types [projectDir]"],
    ["kv", ["frob"], 'needs an action: terrarium kv list|get|put|delete [projectDir] (got "frob")'],
  ] as const)("%s %j exits 2 with one line", async (name, args, what) => {
    const r = await run([name, ...args]);
    expect(r.code, r.output).toBe(2);
    refused(r.output, name, what);
  });
});

describe("the supervisor and a client gone at once", () => {
  it("mcp with stdin closed starts, then stops cleanly: exit 0", async () => {
    // The supervisor stops the engine once it is ready; the engine says so only once its SIGTERM handler is in place.
    const project = tempProject("kitchen");
    try {
      const r = await run(["mcp", project.dir, "--data", project.dataDir, "--no-watch"]);
      expect(r.output).toMatch(/terrarium mcp: .* on http:\/\/127\.0\.0\.1:\d+/);
      expect(r.code, r.output).toBe(0);
    } finally {
      project.cleanup();
    }
  });
});
