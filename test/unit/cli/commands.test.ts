import { describe, expect, it } from "vitest";
import {
  COMMANDS,
  commandUsage,
  parseCommand,
  UNDOCUMENTED,
  USAGE,
  UsageError,
  wantsHelp,
  type CommandName,
} from "../../../runtime/cli/commands.ts";

// The CLI's commands, their options and their help come from one table
// (runtime/cli/commands.ts): what a command parses is what its help lists.

const names = Object.keys(COMMANDS) as CommandName[];

/** The options a help text names: --long and -s (not those of another command it points to). */
function named(help: string): { long: Set<string>; short: Set<string> } {
  const text = help.replace(/terrarium [a-z]+ --[a-z-]+/g, "");
  return {
    long: new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!)),
    short: new Set([...text.matchAll(/(?<![\w-])-([a-zA-Z])(?![\w-])/g)].map((m) => m[1]!)),
  };
}

describe("the CLI's command table", () => {
  it.each(names)("%s: its help lists every option it takes, and only those", (name) => {
    const spec = COMMANDS[name];
    const options = spec.options as Record<string, { short?: string }>;
    const { long, short } = named(spec.flags);
    for (const option of Object.keys(options)) {
      if (UNDOCUMENTED.has(option)) continue;
      expect(long, `--${option}`).toContain(option);
      const s = options[option]!.short;
      if (s) expect(short, `-${s}`).toContain(s);
    }
    for (const option of long) expect(Object.keys(options), `--${option} is documented`).toContain(option);
  });

  it.each(names)("%s: its usage is its part of terrarium --help", (name) => {
    const spec = COMMANDS[name];
    const usage = commandUsage(name);
    expect(usage.startsWith(`Usage: terrarium ${spec.synopsis} [options]\n`)).toBe(true);
    if (spec.flags) expect(USAGE).toContain(spec.flags);
    for (const line of spec.about.split("\n")) expect(USAGE).toContain(line);
    expect(USAGE).toContain(`  ${spec.synopsis}`);
    expect(usage).toContain("-h, --help");
  });

  it("reads --help and -h before --, and not as an option's value", () => {
    expect(wantsHelp(["dir", "--help"])).toBe(true);
    expect(wantsHelp(["-h"])).toBe(true);
    expect(wantsHelp(["--", "--help"])).toBe(false);
    expect(wantsHelp(["--body=--help"])).toBe(false);
  });

  it("says what is wrong with a command line in one line", () => {
    const message = (argv: string[]): string => {
      try {
        parseCommand("serve", argv);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error("parsed");
    };
    expect(message(["--bogus"])).toBe("unknown option --bogus");
    expect(message(["-x"])).toBe("unknown option -x");
    expect(message(["--port"])).toBe("--port needs a value");
    expect(message(["--quiet=yes"])).toBe("--quiet takes no value");
    expect(message(["--port", "--quiet"])).toBe(
      '--port needs a value (one starting with "-" goes as --port=-X)',
    );
    expect(
      parseCommand("serve", ["dir", "--port", "0", "-c", "a.jsonc", "-c", "b.jsonc"]).values,
    ).toMatchObject({ port: "0", config: ["a.jsonc", "b.jsonc"], quiet: false });
  });
});
