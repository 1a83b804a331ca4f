import { parseArgs, type ParseArgsConfig } from "node:util";

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/**
 * Every command of the CLI in one place: the options it parses and the
 * text that documents them. `terrarium --help` is built from these
 * entries, `terrarium <command> --help` prints one of them, and each
 * command parses its argv through `parseCommand` with the options listed
 * here, so the help a user reads and the flags a command takes come from
 * the same entry. A bad command line throws a UsageError, which main.ts
 * turns into one line and exit code 2 for every command.
 *
 * This module stays light (no engine imports): main.ts and the supervisor
 * load it before anything else.
 */

/**
 * wrangler dev's flags that mean the same here, for every command that
 * opens a project: `-c/--config` (repeatable: the first config is the
 * project's Worker, the others more Workers it reaches through service
 * bindings), `-e/--env`, `--var KEY:VALUE` (repeatable), `--persist-to`
 * (the data directory, as --data) and `--local` (accepted: everything here
 * is local).
 */
export const WRANGLER_FLAGS = {
  config: { type: "string", short: "c", multiple: true },
  env: { type: "string", short: "e" },
  var: { type: "string", multiple: true },
  "persist-to": { type: "string" },
  local: { type: "boolean", default: false },
} as const;

/**
 * --traces on|all|off|RATE (docs/traces.md): on traces requests up to 200
 * new traces a second, all every request, off none, a rate between 0 and 1
 * that share of requests.
 */
export const TRACES_FLAG = { traces: { type: "string" } } as const;

/**
 * `watch` is there for the `--no-watch` spelling only (parseArgs on Node
 * 20 has no negated booleans); it is not documented.
 */
const WATCH = {
  watch: { type: "boolean", default: true },
  "no-watch": { type: "boolean", default: false },
} as const;

/**
 * How a command that serves a project (serve, ui, load) stops and runs:
 * `--grace MS` for in-flight work, `--exit-on-stdin-close`, and
 * `--no-supervisor` (the engine in the command's own process).
 */
const SERVING = {
  grace: { type: "string" },
  "exit-on-stdin-close": { type: "boolean", default: false },
  "no-supervisor": { type: "boolean", default: false },
} as const;

/** Options a command parses but does not document (see WATCH). */
export const UNDOCUMENTED = new Set(["watch"]);

interface CommandSpec {
  /** What follows `terrarium`: the command and its positionals. */
  synopsis: string;
  /** What the command does, one line after another (no indentation). */
  about: string;
  /** The options, as the help prints them: four spaces in, descriptions aligned. */
  flags: string;
  options: ParseArgsOptionsConfig;
}

const LIFECYCLE_FLAGS = `    --idle-after MS      Active -> Idle after MS without requests (default 1000)
    --hibernate-after MS Idle -> Hibernating after MS (default 10000)`;

const TRACES_LINE = `    --traces WHICH       on (default: up to 200 new traces a second), all, off,
                         or a rate between 0 and 1 (docs/traces.md)`;

export const COMMANDS = {
  serve: {
    synopsis: "serve [projectDir]",
    about: `Run a project headless: the Request Router on 127.0.0.1.
projectDir defaults to the bundled sample project.`,
    flags: `    --port N             port to listen on (default 8787; 0 picks a free one)
    --data DIR           data directory (default <projectDir>/.terrarium)
${LIFECYCLE_FLAGS}
    --max-live N         live objects before the least recently used hibernate
    --cpu-limit MS       CPU time per request or event (default 30000)
    --answer-timeout MS  a request or event with no answer after MS fails, saying
                         so (default 60000); the object shows Processing until it ends
    --quiet              do not print object logs
    --no-watch           do not reload when the project's files change
${TRACES_LINE}
    --grace MS           on stopping, how long in-flight work gets (default 5000)
    --exit-on-stdin-close  also stop when stdin ends or the parent process does
    --ip ADDR            the router's address (default 127.0.0.1)
    --no-supervisor      run the engine in this process: no supervisor restarting
                         it when an object's allocation aborts it (see below)
    As wrangler dev:
    -c, --config FILE    a wrangler config; repeatable: the first is the project's
                         Worker, the others more Workers its services bind
    -e, --env NAME       run the config's env.NAME (and .dev.vars.NAME)
    --var KEY:VALUE      a var over vars and .dev.vars (repeatable)
    --persist-to DIR     the data directory (as --data)
    --local              accepted (everything runs locally)
    --test-scheduled     /__scheduled?cron=.. runs the Worker's scheduled() handler
                         (/cdn-cgi/handler/scheduled always does)`,
    options: {
      port: { type: "string", default: "8787" },
      data: { type: "string" },
      "idle-after": { type: "string" },
      "hibernate-after": { type: "string" },
      "max-live": { type: "string" },
      "cpu-limit": { type: "string" },
      "answer-timeout": { type: "string" },
      quiet: { type: "boolean", default: false },
      ...WATCH,
      ...SERVING,
      ip: { type: "string" },
      "test-scheduled": { type: "boolean", default: false },
      ...WRANGLER_FLAGS,
      ...TRACES_FLAG,
    },
  },
  ui: {
    synopsis: "ui [projectDir]",
    about: `Open the Terrarium UI in a browser: the built renderer and
the control API on 127.0.0.1, behind a per-launch token.
Prints "UI on http://127.0.0.1:<port>/?token=<token>".`,
    flags: `    --port N             port of the UI (default 0: a free one)
    --router-port M      port of the project's router (default 8787; 0 picks one)
    --data DIR           data directory (default <projectDir>/.terrarium)
${LIFECYCLE_FLAGS}
    --quiet              do not print object logs
    --no-watch           do not reload when the project's files change
${TRACES_LINE}
    --grace MS           on stopping, how long in-flight work gets (default 5000)
    --exit-on-stdin-close  also stop when stdin ends or the parent process does
    --no-supervisor      run the engine in this process (see "Two processes")
    -c, --config FILE, -e, --env NAME, --var KEY:VALUE, --persist-to DIR, --local
                         as on serve (wrangler dev's flags)`,
    options: {
      port: { type: "string", default: "0" },
      "router-port": { type: "string", default: "8787" },
      data: { type: "string" },
      "idle-after": { type: "string" },
      "hibernate-after": { type: "string" },
      quiet: { type: "boolean", default: false },
      ...WATCH,
      ...SERVING,
      ...WRANGLER_FLAGS,
      ...TRACES_FLAG,
    },
  },
  export: {
    synopsis: "export <projectDir>",
    about: `Write a Cloudflare project that deploys with wrangler: the
code unchanged, an entry Worker doing terrarium.json's
routes and Event Bus, wrangler.jsonc with migrations.`,
    flags: `    --out DIR            output folder (must be empty or missing)
    --force              replace the contents of a non-empty --out
    -e, --env NAME       export the config's env.NAME, for wrangler deploy --env NAME
    -c, --config FILE    as on serve: the first is the project's Worker; each other
                         Worker is exported too, under workers/<name>/`,
    options: {
      out: { type: "string" },
      force: { type: "boolean", default: false },
      env: { type: "string", short: "e" },
      config: { type: "string", short: "c", multiple: true },
    },
  },
  load: {
    synopsis: "load <projectDir>",
    about: `Drive simulated traffic at a project and print a k6-like
summary. Serves the project itself, as serve does, unless
--url points at a running Terrarium. Exits 99 when a
threshold fails, 130 when a signal ends the run early.
Every run is saved in <data>/runs.`,
    flags: `    --profile NAME       a profile from terrarium.json's loadProfiles
    --rate N             open model: N requests/s, whatever the answers do (default 10)
    --clients N          closed model: N virtual clients, each waiting for its answer
    --think T            closed model: think time between requests (100ms, 50ms..150ms)
    --duration T         how long (default 10s; 500ms, 10s, 2m)
    --method M           HTTP method (default GET, POST with --body)
    --path P             path template (default /): {key}, {seq}, {vu}, {rand}, {uuid}
    --keys SPEC          what {key} takes: uniform:K, zipf:K[:s] (0 is hottest) or seq
    --header 'K: V'      a request header (repeatable)
    --body TEXT          request body template
    --client KIND        api (default), mobile (latency, jitter, drops) or web (+ a WebSocket)
    --socket PATH        web client: the WebSocket path template (default /ws/{key})
    --threshold EXPR     p99<200, p99.9<1s, errors<1%, rps>400 (repeatable)
    --url URL            load this server instead of serving the project
    --data DIR           data directory (default <projectDir>/.terrarium)
    --json               print the summary as JSON on stdout
    --quiet              no per-second progress lines
${TRACES_LINE}
    --grace MS           serving the project: on stopping, how long in-flight work gets (default 5000)
    --exit-on-stdin-close  also stop when stdin ends or the parent process does
    --no-supervisor      serving the project: the engine in this process (see "Two processes")
    -c, --config FILE, -e, --env NAME, --var KEY:VALUE, --persist-to DIR, --local
                         as on serve (wrangler dev's flags)`,
    options: {
      profile: { type: "string" },
      rate: { type: "string" },
      clients: { type: "string" },
      think: { type: "string" },
      duration: { type: "string" },
      method: { type: "string" },
      path: { type: "string" },
      keys: { type: "string" },
      header: { type: "string", multiple: true },
      body: { type: "string" },
      client: { type: "string" },
      socket: { type: "string" },
      threshold: { type: "string", multiple: true },
      url: { type: "string" },
      data: { type: "string" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      ...SERVING,
      ...WRANGLER_FLAGS,
      ...TRACES_FLAG,
    },
  },
  mcp: {
    synopsis: "mcp [projectDir]",
    about: `Serve the project for a coding agent: its control API as
MCP tools over stdio (reads, requests, load runs). Ends
when stdin closes or the parent process ends. Logs go to
stderr; stdout is the protocol's. See docs/mcp.md.`,
    flags: `    --allow-writes       add the tools that change files: add_class,
                         update_class_code, export_project
    --port N             port of the project's router (default 0: a free one)
    --data DIR           data directory (default <projectDir>/.terrarium)
${LIFECYCLE_FLAGS}
    --quiet              do not print object logs (to stderr)
    --no-watch           do not reload when the project's files change
    --grace MS           on stopping, how long in-flight work gets (default 5000)
    --no-supervisor      run the engine in this process (see "Two processes")`,
    options: {
      "allow-writes": { type: "boolean", default: false },
      port: { type: "string", default: "0" },
      data: { type: "string" },
      "idle-after": { type: "string" },
      "hibernate-after": { type: "string" },
      quiet: { type: "boolean", default: false },
      ...WATCH,
      grace: { type: "string" },
      "no-supervisor": { type: "boolean", default: false },
    },
  },
  new: {
    synopsis: "new <dir>",
    about: `Create a project from a sample: its files in <dir> (new or
empty), the Worker named after the folder.`,
    flags: `    --sample NAME        counter (default: one class, Cloudflare's starter shape)
                         or aidevos (the AIDevOS system of eight classes)
    --name NAME          the Worker's name (default: from the folder name)`,
    options: { sample: { type: "string" }, name: { type: "string" } },
  },
  snapshot: {
    synopsis: "snapshot [projectDir]",
    about: `Copy an object's storage (SQL tables and KV) into
<data>/snapshots; also while a Terrarium serves the folder.`,
    flags: `    --object X           the object: its id, an id prefix or its name
    --class NAME         narrows --object to a class
    --label TEXT         a note kept with the snapshot
    --list               list snapshots (of --object, or of every object)
    --diff ID [--to ID]  rows added, changed, removed per table and KV keys,
                         from snapshot ID to another one or to the storage now
    --json               print JSON
    --data DIR           data directory (default <projectDir>/.terrarium)`,
    options: {
      object: { type: "string" },
      class: { type: "string" },
      label: { type: "string" },
      list: { type: "boolean", default: false },
      diff: { type: "string" },
      to: { type: "string" },
      json: { type: "boolean", default: false },
      data: { type: "string" },
    },
  },
  restore: {
    synopsis: "restore [projectDir]",
    about: `Put an object's storage back as a snapshot had it (the
storage it replaces is kept as a snapshot first).
Refused while a Terrarium serves the folder: use its UI.`,
    flags: `    --snapshot ID        the snapshot (terrarium snapshot --list)
    --data DIR           data directory (default <projectDir>/.terrarium)`,
    options: { snapshot: { type: "string" }, data: { type: "string" } },
  },
  reset: {
    synopsis: "reset [projectDir]",
    about: `Delete objects' storage and alarms (a snapshot of each is
kept first); the objects wake empty. Refused while a
Terrarium serves the folder: use its UI.`,
    flags: `    --object X           one object (id, id prefix or name; --class narrows it)
    --class NAME         every object of a class
    --all                every object of the project
    --data DIR           data directory (default <projectDir>/.terrarium)`,
    options: {
      object: { type: "string" },
      class: { type: "string" },
      all: { type: "boolean", default: false },
      data: { type: "string" },
    },
  },
  versions: {
    synopsis: "versions [projectDir]",
    about: `List the saved versions of a class's code (its source
file, content-addressed in <data>/versions).`,
    flags: `    --class NAME         the class
    --json               print JSON
    --data DIR           data directory (default <projectDir>/.terrarium)`,
    options: {
      class: { type: "string" },
      json: { type: "boolean", default: false },
      data: { type: "string" },
    },
  },
  rollback: {
    synopsis: "rollback [projectDir]",
    about: `Roll a class back to a saved version through the live-
update path; refused, the file left as it is, when that
version does not build or its constructor throws on the
class's current storage. Refused while a Terrarium serves
the folder: use its Design view.`,
    flags: `    --class NAME         the class
    --version HASH       the version (6 or more hex digits of its hash)
    --data DIR           data directory (default <projectDir>/.terrarium)`,
    options: { class: { type: "string" }, version: { type: "string" }, data: { type: "string" } },
  },
  traces: {
    synopsis: "traces [projectDir]",
    about: `List the project's traces (every request through the
router, alarms, deliveries), newest first, from
<data>/traces.sqlite; also while a Terrarium serves it.`,
    flags: `    --path TEXT          requests whose path contains TEXT
    --status S           a status (404), a class (4xx), error or ok
    --object X           traces that reached an object (class, name or id)
    --limit N            how many (default 20)
    --show ID            one trace as a tree of spans with their log lines
    --json               print JSON
    --data DIR           data directory (default <projectDir>/.terrarium)`,
    options: {
      path: { type: "string" },
      status: { type: "string" },
      object: { type: "string" },
      limit: { type: "string" },
      show: { type: "string" },
      json: { type: "boolean", default: false },
      data: { type: "string" },
    },
  },
  types: {
    synopsis: "types [projectDir]",
    about: `Write the project's Env declaration (bindings, vars, Durable
Object namespaces typed with their classes) to
worker-configuration.d.ts, as \`wrangler types\` does.
projectDir defaults to the current folder.`,
    flags: "",
    options: {},
  },
  kv: {
    synopsis: "kv list|get|put|delete [projectDir]",
    about: `A KV namespace in the data folder, as wrangler kv key ...
--local: the binding's own limits and errors; also while
a Terrarium serves the folder (its Worker sees the change).`,
    flags: `    --binding NAME       the namespace's binding (needed when there are several)
    --namespace-id ID    or the namespace by its id
    --key K              the key (get, put, delete)
    --value TEXT         put: the value (or --path FILE for its bytes)
    --metadata JSON      put: the key's metadata
    --ttl S              put: expire after S seconds (at least 60)
    --expiration T       put: expire at T, seconds since the epoch
    --prefix P           list: keys starting with P
    --limit N            list: at most N keys (default 1000)
    --cursor C           list: the page after the one that printed C
    --json               print JSON (get: value or base64, metadata, expiration)
    --data DIR           data directory (default <projectDir>/.terrarium)
    -c, --config FILE, -e, --env NAME, --var KEY:VALUE, --persist-to DIR, --local
                         as on serve (wrangler dev's flags)`,
    options: {
      ...WRANGLER_FLAGS,
      data: { type: "string" },
      binding: { type: "string" },
      "namespace-id": { type: "string" },
      key: { type: "string" },
      value: { type: "string" },
      path: { type: "string" },
      prefix: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
      ttl: { type: "string" },
      expiration: { type: "string" },
      metadata: { type: "string" },
      json: { type: "boolean", default: false },
    },
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** The notes after the commands: each belongs to the commands it names, and their help prints it too. */
const NOTES: { title: string; commands: readonly CommandName[]; text: string }[] = [
  {
    title: "Stopping (serve, ui, load):",
    commands: ["serve", "ui", "load"],
    text: `  SIGINT or SIGTERM stops accepting requests, closes WebSockets (1001) and gives
  what is in flight the grace period (--grace). Then unanswered requests get a
  503, objects still busy (a spinning one too) have their workers ended, every
  SQLite file is closed with the writes already answered kept, and the command
  exits 0 (load: 130, its run ended early), with one line on stderr naming what
  was cut short (nothing when nothing was). A second signal exits at once: 130
  (SIGINT), 143 (SIGTERM).
  Stdin is not read: started from a terminal, with stdin from /dev/null (CI,
  nohup, &) or under a supervisor, the command runs until signalled. A parent
  that wants it to end with it passes --exit-on-stdin-close (or sets
  TERRARIUM_EXIT_ON_STDIN_CLOSE=1) and holds a pipe on its stdin: the command
  then stops, as on SIGTERM, when that pipe closes or when its parent process
  ends (checked every second).`,
  },
  {
    title: "Two processes (serve, ui, mcp, load serving the project):",
    commands: ["serve", "ui", "mcp", "load"],
    text: `  These run the engine in a child process under a thin supervisor. An object
  that makes one allocation too large for its 128 MB heap aborts V8's whole
  process; the supervisor then prints one line naming the object, restarts the
  engine on the same ports (connections wait meanwhile; ui keeps its token, and
  an open page reconnects) and data folder, and the object's next request is
  answered 500 with the reason, once. Signals and --exit-on-stdin-close go to
  the supervisor, which passes them on. mcp: the supervisor relays stdio; a call
  in flight at the abort is answered with an error saying why, and the session
  goes on. load: the run stays in the supervisor's process and goes on.
  --no-supervisor: one process.`,
  },
];

/** Where the description starts on a command's first line in `terrarium --help`. */
const ABOUT_COLUMN = 23;

/** A command's entry in `terrarium --help`: the synopsis, what it does beside it, then its options. */
function section(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const about = spec.about.split("\n");
  const head = `  ${spec.synopsis}`;
  const lines =
    head.length < ABOUT_COLUMN - 1
      ? [
          `${head.padEnd(ABOUT_COLUMN)}${about[0]}`,
          ...about.slice(1).map((l) => " ".repeat(ABOUT_COLUMN) + l),
        ]
      : [head, ...about.map((l) => " ".repeat(ABOUT_COLUMN) + l)];
  return `${[...lines, ...(spec.flags ? [spec.flags] : [])].join("\n")}\n`;
}

/** `terrarium --help`. */
export const USAGE = `Usage: terrarium <command> [options]

Commands:
${(Object.keys(COMMANDS) as CommandName[]).map(section).join("\n")}
  help [command]       Show this text, or one command's (as terrarium <command> --help).

Every command takes -h/--help. A command line it cannot take (an unknown
option, a value of the wrong shape) is refused with one line on stderr and
exit code 2.

${NOTES.map((n) => `${n.title}\n${n.text}\n`).join("\n")}`;

/** `terrarium <command> --help`: the command's own part of USAGE, and the notes that name it. */
export function commandUsage(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const dedent = (text: string): string => text.replace(/^ {2}/gm, "");
  const notes = NOTES.filter((n) => n.commands.includes(name));
  return [
    `Usage: terrarium ${spec.synopsis} [options]\n`,
    `${spec.about}\n`,
    `Options:\n${spec.flags ? `${dedent(spec.flags)}\n` : ""}  -h, --help           show this text\n`,
    ...notes.map((n) => `${n.title}\n${n.text}\n`),
  ].join("\n");
}

/** Whether a command line asks for help: -h or --help before any `--`. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

/**
 * A command line the command cannot take. Thrown wherever it is found (the
 * options, a positional, a value of the wrong shape); main.ts prints it as
 * `terrarium <command>: <message> (see terrarium <command> --help)` and
 * exits 2.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

export function usageError(message: string): never {
  throw new UsageError(message);
}

/** parseArgs's errors, said in a line (its own messages run to three, with advice about `--`). */
function argsMessage(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const message = String(err.message ?? e);
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const option = /^Unknown option '([^']*)'/.exec(message)?.[1];
    if (option) return `unknown option ${option}`;
  }
  if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const missing = /^Option '(?:-\w, )?(--[^ ']+) <value>' argument missing/.exec(message);
    if (missing) return `${missing[1]} needs a value`;
    const ambiguous = /^Option '(?:-\w, )?(--[^ ']+)(?: <value>)?' argument is ambiguous/.exec(message);
    if (ambiguous) return `${ambiguous[1]} needs a value (one starting with "-" goes as ${ambiguous[1]}=-X)`;
    const flag = /^Option '(?:-\w, )?(--[^ ']+)' does not take an argument/.exec(message);
    if (flag) return `${flag[1]} takes no value`;
  }
  return message.split("\n")[0]!.replace(/\.$/, "");
}

type Parsed<C extends CommandName> = ReturnType<
  typeof parseArgs<{ args: string[]; allowPositionals: true; options: (typeof COMMANDS)[C]["options"] }>
>;

/** A command's argv, parsed with its options; anything else throws a UsageError. */
export function parseCommand<C extends CommandName>(command: C, argv: string[]): Parsed<C> {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: COMMANDS[command].options as ParseArgsOptionsConfig,
    }) as Parsed<C>;
  } catch (e) {
    return usageError(argsMessage(e));
  }
}

/** Writes `terrarium: message` to stderr and exits (1: the command ran and failed). */
export function fail(message: string, code = 1): never {
  process.stderr.write(`terrarium: ${message}\n`);
  process.exit(code);
}
