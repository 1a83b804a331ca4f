import { parseArgs } from "node:util";
import {
  exitOnStdinClose,
  fail,
  graceFlag,
  intFlag,
  lifecycleFlags,
  ipFlag,
  openFlags,
  openProject,
  printEngineEvents,
  stopOnSignals,
  WRANGLER_FLAGS,
  TRACES_FLAG,
  tracesFlag,
} from "./common.ts";
import { connectSupervisor, isSupervised } from "./supervised.ts";

/**
 * `terrarium serve`: the engine and its router in this process. Run by the
 * supervisor (supervise.ts) in a child process, or directly with
 * --no-supervisor.
 */
export async function serve(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string", default: "8787" },
      data: { type: "string" },
      "idle-after": { type: "string" },
      "hibernate-after": { type: "string" },
      "max-live": { type: "string" },
      "cpu-limit": { type: "string" },
      "answer-timeout": { type: "string" },
      quiet: { type: "boolean", default: false },
      watch: { type: "boolean", default: true },
      "no-watch": { type: "boolean", default: false },
      grace: { type: "string" },
      "exit-on-stdin-close": { type: "boolean", default: false },
      ip: { type: "string" },
      "no-supervisor": { type: "boolean", default: false },
      "test-scheduled": { type: "boolean", default: false },
      ...WRANGLER_FLAGS,
      ...TRACES_FLAG,
    },
  });
  const open = openFlags("serve", positionals, values);
  const port = intFlag(values.port, "port") ?? 8787;
  if (port > 65_535) fail("a port is at most 65535", 2);
  const host = ipFlag(values.ip);
  const graceMs = graceFlag(values.grace);
  const lifecycle = lifecycleFlags(values);

  const supervisor = isSupervised() ? await connectSupervisor() : null;

  const engine = await openProject(open.projectDir, open.data, lifecycle, {
    ...open.options,
    traces: tracesFlag(values.traces),
    testScheduled: values["test-scheduled"],
  });
  printEngineEvents(engine, values.quiet);
  supervisor?.watch(engine);
  if (values.watch && !values["no-watch"]) engine.watch();
  let actual: number;
  try {
    actual = await engine.listen(port, host, supervisor?.handles.get("router"));
  } catch (e) {
    await engine.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE") fail(`port ${port} is in use; pick another with --port`);
    if (err.code === "EADDRNOTAVAIL") fail(`--ip ${host} is not an address of this machine`);
    throw e;
  }
  process.stdout.write(`Ready on ${engine.url ?? `http://${host}:${actual}`}\n`);
  supervisor?.ready(actual, engine.lifecycle.options.memoryLimitMb);
  const failure = engine.lifecycle.loadFailure;
  if (failure) process.stderr.write(`terrarium: ${failure}; requests answer 500 until the code is fixed\n`);

  stopOnSignals({
    graceMs,
    // Supervised, the supervisor watches stdin and the parent (and passes the flag on to no one).
    exitOnStdinClose: !supervisor && exitOnStdinClose(values["exit-on-stdin-close"]),
    stop: () => engine.close({ graceMs }),
  });
}
