import { parseCommand } from "./commands.ts";
import {
  exitOnStdinClose,
  fail,
  graceFlag,
  intFlag,
  lifecycleFlags,
  ipFlag,
  openFlags,
  startEngine,
  stopOnSignals,
  usageError,
} from "./common.ts";

/**
 * `terrarium serve`: the engine and its router in this process. Run by the
 * supervisor (supervise.ts) in a child process, or directly with
 * --no-supervisor.
 */
export async function serve(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("serve", argv);
  const open = openFlags(positionals, values);
  const port = intFlag(values.port, "port") ?? 8787;
  if (port > 65_535) usageError("a port is at most 65535");
  const host = ipFlag(values.ip);
  const graceMs = graceFlag(values.grace);
  const lifecycle = lifecycleFlags(values);

  const { engine, supervisor } = await startEngine(open, lifecycle, values);
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
  const failure = engine.lifecycle.loadFailure;
  if (failure) process.stderr.write(`terrarium: ${failure}; requests answer 500 until the code is fixed\n`);

  stopOnSignals({
    graceMs,
    // Supervised, the supervisor watches stdin and the parent (and passes the flag on to no one).
    exitOnStdinClose: !supervisor && exitOnStdinClose(values["exit-on-stdin-close"]),
    stop: () => engine.close({ graceMs }),
  });
  // Only now: a SIGTERM the supervisor sends once it hears this must find the handler above.
  supervisor?.ready(actual, engine.lifecycle.options.memoryLimitMb);
}
