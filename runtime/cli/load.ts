import { constants } from "node:os";
import { join, resolve } from "node:path";
import { ProjectError } from "../config/errors.ts";
import { loadProject } from "../config/project.ts";
import { parseLoadProfile, type LoadProfileConfig } from "../config/terrarium.ts";
import { cutShortLine, Engine, type StopReport } from "../engine.ts";
import { parseThreshold, type Threshold } from "../shared/grammar.ts";
import { runLoad } from "../load/run.ts";
import { newRunId } from "../load/run-id.ts";
import { costText, estimateCost } from "../load/cost.ts";
import { formatSummary, progressLine } from "../load/summary.ts";
import {
  exitOnStdinClose,
  fail,
  graceFlag,
  onParentGone,
  openFlags,
  startEngine,
  stopOnSignals,
  tracesFlag,
  usageError,
} from "./common.ts";
import { parseCommand } from "./commands.ts";
import { RemoteEngineMetrics, serveLoadMetrics } from "./load-engine.ts";
import { isSupervised } from "./supervised.ts";
import type { Supervision } from "./supervise.ts";

const SHAPING = [
  "rate",
  "clients",
  "think",
  "duration",
  "method",
  "path",
  "keys",
  "header",
  "body",
  "client",
  "socket",
] as const;

/** The profile an ad hoc command line describes, checked like one from terrarium.json. */
function adhocProfile(v: Record<string, string | string[] | boolean | undefined>): LoadProfileConfig {
  const str = (k: string): string | undefined => v[k] as string | undefined;
  const num = (k: string): number | undefined => {
    const s = str(k);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n < 0) usageError(`--${k} needs a number, got "${s}"`);
    return n;
  };
  const rate = num("rate");
  const clients = num("clients");
  if (rate !== undefined && clients !== undefined)
    usageError("give --rate (open model) or --clients (closed), not both");
  const headers: Record<string, string> = {};
  for (const h of (v.header as string[] | undefined) ?? []) {
    const i = h.indexOf(":");
    if (i <= 0) usageError(`--header needs "Name: value", got "${h}"`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const client = str("client") ?? "api";
  const raw: Record<string, unknown> = {
    ...(clients !== undefined ? { model: "closed", clients } : { model: "open", rate: rate ?? 10 }),
    ...(str("think") !== undefined ? { thinkTime: str("think") } : {}),
    duration: str("duration") ?? "10s",
    client,
    ...(str("keys") !== undefined ? { keys: str("keys") } : {}),
    ...(client === "web" ? { web: { socket: str("socket") ?? "/ws/{key}" } } : {}),
    requests: [
      {
        ...(str("method") !== undefined ? { method: str("method")!.toUpperCase() } : {}),
        path: str("path") ?? "/",
        ...(Object.keys(headers).length ? { headers } : {}),
        ...(str("body") !== undefined ? { body: str("body") } : {}),
      },
    ],
  };
  try {
    return parseLoadProfile(raw);
  } catch (e) {
    if (e instanceof ProjectError)
      usageError(`${e.message.replace(/^requests\[0\]\./, "")} (from the flags)`);
    throw e;
  }
}

/**
 * `terrarium load`: one run of a profile, against the project served here or
 * at --url. Serving the project, it runs the engine in a child process
 * under the supervisor (supervise.ts), as `serve` does, and the run here;
 * --no-supervisor (or TERRARIUM_NO_SUPERVISOR=1) keeps both in this process.
 */
export async function load(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("load", argv);
  const graceMs = graceFlag(values.grace);
  if (positionals.length !== 1 && !values.config?.length)
    usageError(`takes one project folder, got ${positionals.length}`);
  const open = openFlags(positionals, values);
  const projectDir = open.projectDir;
  let thresholds: Threshold[];
  try {
    thresholds = (values.threshold ?? []).map(parseThreshold);
  } catch (e) {
    usageError(`--threshold: ${(e as Error).message}`);
  }
  if (values.url !== undefined && !/^https?:\/\/[^/]+/.test(values.url))
    usageError(`--url needs http://host:port, got "${values.url}"`);

  let project;
  try {
    project = loadProject(projectDir, open.options);
  } catch (e) {
    if (e instanceof ProjectError) fail(e.message);
    throw e;
  }
  let name: string;
  let profile: LoadProfileConfig;
  if (values.profile !== undefined) {
    const given = SHAPING.filter((k) => values[k] !== undefined);
    if (given.length)
      usageError(`--profile cannot be combined with --${given.join(", --")}; edit the profile instead`);
    const profiles = project.terrarium.loadProfiles ?? {};
    const found = profiles[values.profile];
    if (!found) {
      const names = Object.keys(profiles);
      fail(
        `no load profile "${values.profile}" in terrarium.json${names.length ? ` (there is ${names.join(", ")})` : " (it has no loadProfiles)"}`,
      );
    }
    name = values.profile;
    profile = found;
  } else {
    name = "ad hoc";
    profile = adhocProfile(values);
  }
  const dataDir = open.data ? resolve(open.data) : join(project.dir, ".terrarium");

  let engine: Engine | null = null;
  let url = values.url;
  const supervised =
    url === undefined && !values["no-supervisor"] && process.env.TERRARIUM_NO_SUPERVISOR !== "1";
  if (supervised && isSupervised()) {
    // This is the engine's process of a supervised load: serve the project, and measure it for the run.
    const { engine: served, supervisor } = await startEngine(
      { ...open, data: dataDir },
      {},
      { traces: values.traces, quiet: true, watch: false },
    );
    const port = await served.listen(0, "127.0.0.1", supervisor?.handles.get("router"));
    serveLoadMetrics(served);
    stopOnSignals({ graceMs, exitOnStdinClose: false, stop: () => served.close({ graceMs }) });
    // Only now: a SIGTERM the supervisor sends once it hears this must find the handler above.
    supervisor?.ready(port, served.lifecycle.options.memoryLimitMb);
    return;
  }
  let remote: RemoteEngineMetrics | null = null;
  let supervision: Supervision | null = null;
  if (supervised) {
    const { supervise } = await import("./supervise.ts");
    const metrics = new RemoteEngineMetrics();
    remote = metrics;
    const port = await new Promise<number>((ready) => {
      supervision = supervise("load", argv, {
        ready: (child, p) => {
          metrics.attach(child);
          ready(p);
        },
        died: () => metrics.detach(),
        message: (m) => metrics.message(m),
      });
    });
    url = `http://127.0.0.1:${port}`;
  } else if (url === undefined) {
    try {
      engine = await Engine.open({ projectDir, dataDir, ...open.options, traces: tracesFlag(values.traces) });
    } catch (e) {
      if (e instanceof ProjectError) fail(e.message);
      throw e;
    }
    engine.events.on("problem", (p) => process.stderr.write(`terrarium: ${p.message}\n`));
    await engine.listen(0);
    url = engine.url!;
  }

  // The first signal ends the run (its summary is printed and saved) and,
  // when the project is served here, starts the engine's bounded stop at
  // once, so a request stuck in an object cannot hold the run open past
  // the grace period. A second signal exits now.
  const abort = new AbortController();
  let interrupted = false;
  let stopping: Promise<StopReport> | null = null;
  let engineStopped: Promise<number> | null = null;
  const interrupt = (): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write("\nterrarium: stopping the run (again to quit now)...\n");
    abort.abort();
    stopping = engine?.close({ graceMs }) ?? null;
    // Supervised, the engine's process stops itself (bounded) and prints what it cut short.
    engineStopped = supervision?.stop() ?? null;
  };
  const onSignal = (signal: "SIGINT" | "SIGTERM"): void => {
    if (interrupted) process.exit(128 + constants.signals[signal]);
    interrupt();
  };
  const onSigint = (): void => onSignal("SIGINT");
  const onSigterm = (): void => onSignal("SIGTERM");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  const unwatch = exitOnStdinClose(values["exit-on-stdin-close"]) ? onParentGone(interrupt) : null;

  const progress = !values.quiet;
  if (progress) process.stderr.write(`terrarium: load ${name} -> ${url}\n`);
  let code = 0;
  // Serving the project here, the busiest objects are snapshotted every 10 s of the run.
  const id = newRunId(Date.now());
  const stopSnapshots = engine?.snapshotDuringLoad(id);
  try {
    const run = await runLoad({
      id,
      name,
      profile,
      url,
      dataDir,
      engine,
      remote,
      thresholds,
      signal: abort.signal,
      ...(progress ? { onSecond: (s) => process.stderr.write(progressLine(s)) } : {}),
    });
    if (values.json) process.stdout.write(`${JSON.stringify(run.summary, null, 2)}\n`);
    else {
      process.stdout.write(formatSummary(run.summary));
      if (run.usage && (engine || remote?.finished)) {
        let storageBytes: Record<string, number> = {};
        if (engine) {
          for (const r of engine.registry.objects())
            storageBytes[r.className] = (storageBytes[r.className] ?? 0) + r.storageBytes;
        } else storageBytes = remote!.finished!.storageBytes;
        process.stdout.write(`\n${costText(estimateCost({ ...run.usage, storageBytes }))}\n`);
      }
    }
    if (!run.summary.ok) code = 99;
  } finally {
    stopSnapshots?.();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    unwatch?.();
    const report = await (stopping ?? engine?.close({ graceMs }));
    const line = report && cutShortLine(report);
    if (line) process.stderr.write(`${line}\n`);
    await (engineStopped ?? (supervision as Supervision | null)?.stop());
  }
  if (interrupted && code === 0) code = 130;
  process.exit(code);
}
