import { parseArgs } from "node:util";

/** Exits with `terrarium: message` (main stays light: the engine loads only for the commands that need it). */
function fail(message: string, code = 1): never {
  process.stderr.write(`terrarium: ${message}\n`);
  process.exit(code);
}

const USAGE = `Usage: terrarium <command> [options]

Commands:
  serve [projectDir]   Run a project headless: the Request Router on 127.0.0.1.
                       projectDir defaults to the bundled sample project.
    --port N             port to listen on (default 8787; 0 picks a free one)
    --data DIR           data directory (default <projectDir>/.terrarium)
    --idle-after MS      Active -> Idle after MS without requests (default 1000)
    --hibernate-after MS Idle -> Hibernating after MS (default 10000)
    --max-live N         live objects before the least recently used hibernate
    --cpu-limit MS       CPU time per request or event (default 30000)
    --answer-timeout MS  a request or event with no answer after MS fails, saying
                         so (default 60000); the object shows Processing until it ends
    --quiet              do not print object logs
    --no-watch           do not reload when the project's files change
    --grace MS           on stopping, how long in-flight work gets (default 5000)
    --exit-on-stdin-close  also stop when stdin ends or the parent process does
    --ip ADDR            the router's address (default 127.0.0.1)
    --no-supervisor      run the engine in this process: no supervisor restarting
                         it when an object's allocation aborts it (see below)
    As wrangler dev (also on ui and load):
    -c, --config FILE    a wrangler config; repeatable: the first is the project's
                         Worker, the others more Workers its services bind
    -e, --env NAME       run the config's env.NAME (and .dev.vars.NAME)
    --var KEY:VALUE      a var over vars and .dev.vars (repeatable)
    --persist-to DIR     the data directory (as --data)
    --local              accepted (everything runs locally)
    --test-scheduled     /__scheduled?cron=.. runs the Worker's scheduled() handler
                         (/cdn-cgi/handler/scheduled always does)

  ui [projectDir]      Open the Terrarium UI in a browser: the built renderer and
                       the control API on 127.0.0.1, behind a per-launch token.
                       Prints "UI on http://127.0.0.1:<port>/?token=<token>".
    --port N             port of the UI (default 0: a free one)
    --router-port M      port of the project's router (default 8787; 0 picks one)
    --data DIR           data directory (default <projectDir>/.terrarium)
    --idle-after MS      Active -> Idle after MS without requests (default 1000)
    --hibernate-after MS Idle -> Hibernating after MS (default 10000)
    --quiet              do not print object logs
    --no-watch           do not reload when the project's files change
    --grace MS           on stopping, how long in-flight work gets (default 5000)
    --exit-on-stdin-close  also stop when stdin ends or the parent process does
    --no-supervisor      run the engine in this process (see "Two processes")

  export <projectDir>   Write a Cloudflare project that deploys with wrangler: the
                       code unchanged, an entry Worker doing terrarium.json's
                       routes and Event Bus, wrangler.jsonc with migrations.
    --out DIR            output folder (must be empty or missing)
    --force              replace the contents of a non-empty --out
    -e, --env NAME       export the config's env.NAME, for wrangler deploy --env NAME
    -c, --config FILE    as on serve: the first is the project's Worker; each other
                         Worker is exported too, under workers/<name>/

  load <projectDir>    Drive simulated traffic at a project and print a k6-like
                       summary. Serves the project itself, as serve does, unless
                       --url points at a running Terrarium. Exits 99 when a
                       threshold fails, 130 when a signal ends the run early.
                       Every run is saved in <data>/runs.
    --profile NAME       a profile from terrarium.json's loadProfiles
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
    --grace MS           serving the project: on stopping, how long in-flight work gets (default 5000)
    --exit-on-stdin-close  also stop when stdin ends or the parent process does

  mcp [projectDir]     Serve the project for a coding agent: its control API as
                       MCP tools over stdio (reads, requests, load runs). Ends
                       when stdin closes or the parent process ends. Logs go to
                       stderr; stdout is the protocol's. See docs/mcp.md.
    --allow-writes       add the tools that change files: add_class,
                         update_class_code, export_project
    --port N             port of the project's router (default 0: a free one)
    --data DIR           data directory (default <projectDir>/.terrarium)
    --idle-after MS      Active -> Idle after MS without requests (default 1000)
    --hibernate-after MS Idle -> Hibernating after MS (default 10000)
    --quiet              do not print object logs (to stderr)
    --no-watch           do not reload when the project's files change
    --grace MS           on stopping, how long in-flight work gets (default 5000)

  new <dir>            Create a project from a sample: its files in <dir> (new or
                       empty), the Worker named after the folder.
    --sample NAME        counter (default: one class, Cloudflare's starter shape)
                         or aidevos (the AIDevOS system of eight classes)
    --name NAME          the Worker's name (default: from the folder name)

  snapshot [projectDir] Copy an object's storage (SQL tables and KV) into
                       <data>/snapshots; also while a Terrarium serves the folder.
    --object X           the object: its id, an id prefix or its name
    --class NAME         narrows --object to a class
    --label TEXT         a note kept with the snapshot
    --list               list snapshots (of --object, or of every object)
    --diff ID [--to ID]  rows added, changed, removed per table and KV keys,
                         from snapshot ID to another one or to the storage now
    --json               print JSON
    --data DIR           data directory (default <projectDir>/.terrarium)

  restore [projectDir] Put an object's storage back as a snapshot had it (the
                       storage it replaces is kept as a snapshot first).
                       Refused while a Terrarium serves the folder: use its UI.
    --snapshot ID        the snapshot (terrarium snapshot --list)
    --data DIR           data directory (default <projectDir>/.terrarium)

  reset [projectDir]   Delete objects' storage and alarms (a snapshot of each is
                       kept first); the objects wake empty. Refused while a
                       Terrarium serves the folder: use its UI.
    --object X           one object (id, id prefix or name; --class narrows it)
    --class NAME         every object of a class
    --all                every object of the project
    --data DIR           data directory (default <projectDir>/.terrarium)

  versions [projectDir] List the saved versions of a class's code (its source
                       file, content-addressed in <data>/versions).
    --class NAME         the class
    --json               print JSON

  rollback [projectDir] Roll a class back to a saved version through the live-
                       update path; refused, the file left as it is, when that
                       version does not build or its constructor throws on the
                       class's current storage. Refused while a Terrarium serves
                       the folder: use its Design view.
    --class NAME         the class
    --version HASH       the version (6 or more hex digits of its hash)

  traces [projectDir]  List the project's traces (every request through the
                       router, alarms, deliveries), newest first, from
                       <data>/traces.sqlite; also while a Terrarium serves it.
    --path TEXT          requests whose path contains TEXT
    --status S           a status (404), a class (4xx), error or ok
    --object X           traces that reached an object (class, name or id)
    --limit N            how many (default 20)
    --show ID            one trace as a tree of spans with their log lines
    --json               print JSON

  types [projectDir]   Write the project's Env declaration (bindings, vars, Durable
                       Object namespaces typed with their classes) to
                       worker-configuration.d.ts, as \`wrangler types\` does.
                       projectDir defaults to the current folder.

  kv list|get|put|delete [projectDir]
                       A KV namespace in the data folder, as wrangler kv key ...
                       --local: the binding's own limits and errors; also while
                       a Terrarium serves the folder (its Worker sees the change).
    --binding NAME       the namespace's binding (needed when there are several)
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

  help                 Show this text.

Stopping (serve, ui, load):
  SIGINT or SIGTERM stops accepting requests, closes WebSockets (1001) and gives
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
  ends (checked every second).

Two processes (serve, ui):
  serve and ui run the engine in a child process under a thin supervisor. An object
  that makes one allocation too large for its 128 MB heap aborts V8's whole
  process; the supervisor then prints one line naming the object, restarts the
  engine on the same ports (connections wait meanwhile; ui keeps its token, and
  an open page reconnects) and data folder, and the object's next request is
  answered 500 with the reason, once. Signals and --exit-on-stdin-close go to
  the supervisor, which passes them on. --no-supervisor: one process.
`;

async function newCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { sample: { type: "string" }, name: { type: "string" } },
  });
  if (positionals.length !== 1)
    fail("new takes one folder: terrarium new <dir> [--sample counter|aidevos]", 2);
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

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
    case "ui": {
      // The engine runs in a child process under a thin supervisor (supervise.ts), unless this is that child.
      const { isSupervised } = await import("./supervised.ts");
      if (isSupervised() || rest.includes("--no-supervisor") || process.env.TERRARIUM_NO_SUPERVISOR === "1") {
        if (command === "serve") return (await import("./serve.ts")).serve(rest);
        return (await import("./ui.ts")).ui(rest);
      }
      return (await import("./supervise.ts")).supervise(command, rest);
    }
    case "load":
      return (await import("./load.ts")).load(rest);
    case "export":
      return (await import("./export.ts")).exportCommand(rest);
    case "mcp":
      return (await import("./mcp.ts")).mcp(rest);
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
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`, 2);
  }
}
