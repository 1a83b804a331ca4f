import { existsSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ProjectError } from "../config/errors.ts";
import { cutShortLine, DEFAULT_GRACE_MS, Engine, type EngineOptions, type StopReport } from "../engine.ts";
import type { LifecycleOptions } from "../lifecycle/lifecycle.ts";
import type { ProjectOptions } from "../config/project.ts";
import { maskText, secretValues } from "../api/secrets.ts";
import { onParentGone } from "./parent-watch.ts";
import { connectSupervisor, isSupervised, type SupervisorLink } from "./supervised.ts";
import { fail, usageError } from "./commands.ts";

export { onParentGone };
export { fail, TRACES_FLAG, usageError, WRANGLER_FLAGS } from "./commands.ts";

/** What the commands share: errors, number flags, opening a project, printing what the engine reports. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The project a command opens when given none: the AIDevOS sample system. */
export const DEFAULT_SAMPLE = join(REPO_ROOT, "resources", "samples", "aidevos");

/** The one project folder a command takes (default: the sample), which must exist. */
export function projectFolder(positionals: readonly string[]): string {
  if (positionals.length > 1) usageError(`takes one project folder, got ${positionals.length}`);
  const projectDir = resolve(positionals[0] ?? DEFAULT_SAMPLE);
  if (!existsSync(projectDir)) fail(`no such folder: ${projectDir}`);
  return projectDir;
}

/** How a command opens its project, from its positionals and WRANGLER_FLAGS. */
export interface OpenFlags {
  projectDir: string;
  /** --data or --persist-to. */
  data: string | undefined;
  options: ProjectOptions;
}

/**
 * The project a command opens: the folder of the first `-c` config, else
 * the folder given (default: the sample), with --env and --var; bad flags
 * throw a UsageError.
 */
export function openFlags(
  positionals: readonly string[],
  values: {
    config?: string[] | undefined;
    env?: string | undefined;
    var?: string[] | undefined;
    data?: string | undefined;
    "persist-to"?: string | undefined;
  },
): OpenFlags {
  const configs = (values.config ?? []).map((c) => resolve(c));
  for (const c of configs) if (!existsSync(c)) fail(`no such config file: ${c} (-c)`);
  const projectDir = configs[0] ? dirname(configs[0]) : projectFolder(positionals);
  if (configs[0] && positionals.length > 0 && resolve(positionals[0]!) !== projectDir) {
    usageError(`the project folder is the first -c config's (${projectDir}); drop "${positionals[0]}" or -c`);
  }
  if (values.data !== undefined && values["persist-to"] !== undefined)
    usageError("give --data or --persist-to (the same thing), not both");
  const vars: Record<string, string> = {};
  for (const v of values.var ?? []) {
    const i = v.indexOf(":");
    if (i <= 0) usageError(`--var needs KEY:VALUE, got "${v}"`);
    vars[v.slice(0, i)] = v.slice(i + 1);
  }
  const env = values.env;
  if (env !== undefined && !/^[A-Za-z0-9_-]+$/.test(env))
    usageError(`--env needs an environment's name, got "${env}"`);
  return {
    projectDir,
    data: values.data ?? values["persist-to"],
    options: { env: env ?? null, configs, vars },
  };
}

/** --ip: the router's address (127.0.0.1 unless asked); anything else is said out loud. */
export function ipFlag(ip: string | undefined): string {
  const host = ip ?? "127.0.0.1";
  if (ip === "localhost") return "127.0.0.1";
  if (!/^[0-9.]+$|^[0-9a-f:]+$/i.test(host)) usageError(`--ip needs an IP address, got "${host}"`);
  if (host !== "127.0.0.1" && host !== "::1") {
    process.stderr.write(
      `terrarium: warning: the router listens on ${host}, not only on this machine's loopback: anyone who can reach it can call the project\n`,
    );
  }
  return host;
}

export function intFlag(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) usageError(`--${name} needs a whole number, got "${v}"`);
  return n;
}

/** --idle-after, --hibernate-after, --max-live, --cpu-limit and --answer-timeout, where a command has them. */
export function lifecycleFlags(
  values: Record<string, string | string[] | boolean | undefined>,
): Partial<LifecycleOptions> {
  const str = (k: string): string | undefined =>
    typeof values[k] === "string" ? (values[k] as string) : undefined;
  const lifecycle: Partial<LifecycleOptions> = {};
  const idle = intFlag(str("idle-after"), "idle-after");
  const hib = intFlag(str("hibernate-after"), "hibernate-after");
  if (idle !== undefined || hib !== undefined) {
    lifecycle.policy = { idleAfterMs: idle ?? 1_000, hibernateAfterMs: hib ?? 10_000 };
  }
  const maxLive = intFlag(str("max-live"), "max-live");
  if (maxLive !== undefined) lifecycle.maxLiveObjects = Math.max(1, maxLive);
  const cpu = intFlag(str("cpu-limit"), "cpu-limit");
  if (cpu !== undefined) lifecycle.cpuLimitMs = Math.max(1, cpu);
  const answer = intFlag(str("answer-timeout"), "answer-timeout");
  if (answer !== undefined) lifecycle.answerTimeoutMs = Math.max(1, answer);
  return lifecycle;
}

export function tracesFlag(v: string | undefined): NonNullable<EngineOptions["traces"]> {
  if (v === undefined || v === "on") return {};
  if (v === "off") return { enabled: false };
  if (v === "all") return { perSecond: Infinity };
  const rate = Number(v);
  if (v.trim() === "" || !Number.isFinite(rate) || rate < 0 || rate > 1)
    usageError(`--traces takes on, all, off or a rate between 0 and 1, got "${v}"`);
  return { sample: rate };
}

/** Opens a project, turning a ProjectError into the one-line message users get. */
export async function openProject(
  projectDir: string,
  data: string | undefined,
  lifecycle: Partial<LifecycleOptions>,
  options: ProjectOptions & Pick<EngineOptions, "traces" | "testScheduled"> = {},
): Promise<Engine> {
  try {
    return await Engine.open({
      projectDir,
      ...(data ? { dataDir: resolve(data) } : {}),
      lifecycle,
      ...options,
    });
  } catch (e) {
    if (e instanceof ProjectError) fail(e.message);
    throw e;
  }
}

/** Object logs (unless quiet), problems and live-update results, as serve and ui print them. */
export function printEngineEvents(engine: Engine, quiet: boolean): void {
  if (!quiet) {
    engine.events.on("log", (l) => {
      const who = l.objectId ? `${l.source} ${l.objectId.slice(0, 8)}` : l.source;
      const line = maskText(`[${who}] ${l.message}\n`, secretValues(engine.project));
      if (l.level === "error" || l.level === "warn") process.stderr.write(line);
      else process.stdout.write(line);
    });
  }
  for (const note of engine.notes) process.stderr.write(`terrarium: note: ${note}\n`);
  engine.events.on("problem", (p) =>
    process.stderr.write(maskText(`terrarium: ${p.message}\n`, secretValues(engine.project))),
  );
  engine.events.on("update", (u) => {
    if (u.ok) {
      process.stdout.write(
        `Updated: ${u.updated} live object${u.updated === 1 ? "" : "s"} on the new code (${u.durationMs} ms)\n`,
      );
    } else if (engine.lifecycle.loadFailure) {
      process.stderr.write(`terrarium: the code still fails to load: ${u.error}\n`);
    } else process.stderr.write(`terrarium: update refused, the previous code keeps serving: ${u.error}\n`);
  });
}

/**
 * How serve and ui start their engine: join the supervisor when this
 * process runs for one (before the project opens, so the sockets and the
 * objects to refuse once are here in time), open the project with the
 * command's flags, print what the engine reports, let the supervisor name
 * the object on each worker thread, and reload on file changes unless
 * --no-watch.
 */
export async function startEngine(
  open: OpenFlags,
  lifecycle: Partial<LifecycleOptions>,
  values: {
    traces?: string | undefined;
    quiet?: boolean | undefined;
    watch?: boolean | undefined;
    "no-watch"?: boolean | undefined;
    /** serve's --test-scheduled (wrangler dev's /__scheduled). */
    "test-scheduled"?: boolean | undefined;
  },
): Promise<{ engine: Engine; supervisor: SupervisorLink | null }> {
  const supervisor = isSupervised() ? await connectSupervisor() : null;
  const engine = await openProject(open.projectDir, open.data, lifecycle, {
    ...open.options,
    traces: tracesFlag(values.traces),
    ...(values["test-scheduled"] ? { testScheduled: true } : {}),
  });
  printEngineEvents(engine, values.quiet ?? false);
  supervisor?.watch(engine);
  if (values.watch !== false && !values["no-watch"]) engine.watch();
  return { engine, supervisor };
}

/** --grace MS: how long in-flight work gets when the command stops (default 5 s). */
export function graceFlag(v: string | undefined): number {
  return intFlag(v, "grace") ?? DEFAULT_GRACE_MS;
}

/** The env variable that asks, like --exit-on-stdin-close, to stop with the parent. */
export const EXIT_ON_STDIN_CLOSE_ENV = "TERRARIUM_EXIT_ON_STDIN_CLOSE";

/** --exit-on-stdin-close, or TERRARIUM_EXIT_ON_STDIN_CLOSE=1. */
export function exitOnStdinClose(flag: boolean | undefined): boolean {
  return flag === true || process.env[EXIT_ON_STDIN_CLOSE_ENV] === "1";
}

/** Past the grace period, how long a stop may take before the process exits anyway (a bug if it does). */
const STOP_BACKSTOP_MS = 10_000;

/**
 * How a long-running command ends. The first SIGINT or SIGTERM (or, when
 * asked with `exitOnStdinClose`, the end of stdin or of the parent process)
 * runs `stop`, which is bounded by the grace period, prints what it cut
 * short, and exits 0 (1 if stopping failed). A second signal exits at once
 * with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
 *
 * Stdin is not looked at unless asked: a server started from a terminal,
 * with stdin from /dev/null (CI, nohup, `&`) or by a parent that does not
 * hold a pipe to it keeps running until it is signalled.
 */
export function stopOnSignals(opts: {
  graceMs: number;
  exitOnStdinClose: boolean;
  stop: () => Promise<StopReport | null>;
}): void {
  let stopping = false;
  const begin = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      process.stderr.write(
        `terrarium: stopping took longer than the ${opts.graceMs} ms grace period and ${STOP_BACKSTOP_MS} ms more; exiting\n`,
      );
      process.exit(1);
    }, opts.graceMs + STOP_BACKSTOP_MS);
    void opts.stop().then(
      (report) => {
        const line = report && cutShortLine(report);
        if (line) process.stderr.write(`${line}\n`);
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(
          `terrarium: error while stopping: ${e instanceof Error ? e.message : String(e)}\n`,
        );
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: "SIGINT" | "SIGTERM"): void => {
    if (stopping) {
      process.stderr.write(`terrarium: ${signal} again, exiting now\n`);
      process.exit(128 + constants.signals[signal]);
    }
    begin();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  if (opts.exitOnStdinClose) onParentGone(begin);
}
