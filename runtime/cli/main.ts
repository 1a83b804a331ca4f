import {
  commandUsage,
  fail,
  isCommand,
  parseCommand,
  USAGE,
  UsageError,
  usageError,
  wantsHelp,
  type CommandName,
} from "./commands.ts";

async function newCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("new", argv);
  if (positionals.length !== 1)
    usageError(`takes one folder, got ${positionals.length}: terrarium new <dir> [--sample counter|aidevos]`);
  const { newProject } = await import("../templates/new-project.ts");
  try {
    const made = newProject(positionals[0]!, {
      ...(values.sample !== undefined ? { sample: values.sample } : {}),
      ...(values.name !== undefined ? { name: values.name } : {}),
    });
    process.stdout.write(
      `Created ${made.name} in ${made.dir}\nRun it: npx terrarium serve ${made.dir}   or   npx terrarium ui ${made.dir}\n`,
    );
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
}

/** Runs one command; its bad command line (a UsageError) is main's to print. */
async function run(command: CommandName, rest: string[]): Promise<void> {
  switch (command) {
    case "serve":
    case "ui":
    case "mcp": {
      // The engine runs in a child process under a thin supervisor (supervise.ts), unless this is that child.
      const { isSupervised } = await import("./supervised.ts");
      if (isSupervised() || rest.includes("--no-supervisor") || process.env.TERRARIUM_NO_SUPERVISOR === "1") {
        if (command === "serve") return (await import("./serve.ts")).serve(rest);
        if (command === "mcp") return (await import("./mcp.ts")).mcp(rest);
        return (await import("./ui.ts")).ui(rest);
      }
      // An unknown option is refused here, before the supervisor binds a port or starts the engine.
      parseCommand(command, rest);
      (await import("./supervise.ts")).supervise(command, rest);
      return;
    }
    case "load":
      return (await import("./load.ts")).load(rest);
    case "export":
      return (await import("./export.ts")).exportCommand(rest);
    case "new":
      return newCommand(rest);
    case "snapshot":
      return (await import("./snapshot.ts")).snapshotCommand(rest);
    case "restore":
      return (await import("./snapshot.ts")).restoreCommand(rest);
    case "reset":
      return (await import("./snapshot.ts")).resetCommand(rest);
    case "versions":
      return (await import("./versions.ts")).versionsCommand(rest);
    case "traces":
      return (await import("./traces.ts")).tracesCommand(rest);
    case "rollback":
      return (await import("./versions.ts")).rollbackCommand(rest);
    case "types":
      return (await import("./types.ts")).typesCommand(rest);
    case "kv":
      return (await import("./kv.ts")).kvCommand(rest);
  }
}

/**
 * `terrarium <command> [args]`. `--help`/`-h` prints the command's usage and
 * exits 0 before anything starts. A command line the command cannot take
 * ends here, for every command, as one line and exit code 2: the command
 * (or its engine process, under the supervisor, whose exit code the
 * supervisor passes on) throws a UsageError.
 */
export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    const about = rest[0];
    if (command === "help" && about !== undefined) {
      if (!isCommand(about)) fail(`help: unknown command "${about}"; terrarium help lists them`, 2);
      process.stdout.write(commandUsage(about));
      return;
    }
    process.stdout.write(USAGE);
    return;
  }
  if (!isCommand(command)) fail(`unknown command "${command}"\n\n${USAGE}`, 2);
  if (wantsHelp(rest)) {
    process.stdout.write(commandUsage(command));
    return;
  }
  try {
    await run(command, rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`terrarium ${command}: ${e.message} (see terrarium ${command} --help)\n`);
    process.exit(2);
  }
}
