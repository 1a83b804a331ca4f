import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ProjectError } from "../config/errors.ts";
import { Engine } from "../engine.ts";
import type { LifecycleOptions } from "../lifecycle/lifecycle.ts";

/** What the commands share: errors, number flags, opening a project, printing what the engine reports. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The project a command opens when given none: the AIDevOS sample system. */
export const DEFAULT_SAMPLE = join(REPO_ROOT, "resources", "samples", "aidevos");

/** The one project folder a command takes (default: the sample), which must exist. */
export function projectFolder(command: string, positionals: readonly string[]): string {
  if (positionals.length > 1) fail(`${command} takes one project folder, got ${positionals.length}`, 2);
  const projectDir = resolve(positionals[0] ?? DEFAULT_SAMPLE);
  if (!existsSync(projectDir)) fail(`no such folder: ${projectDir}`);
  return projectDir;
}

export function fail(message: string, code = 1): never {
  process.stderr.write(`terrarium: ${message}\n`);
  process.exit(code);
}

export function intFlag(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} needs a whole number, got "${v}"`, 2);
  return n;
}

/** --idle-after, --hibernate-after, --max-live, --cpu-limit and --answer-timeout, where a command has them. */
export function lifecycleFlags(
  values: Record<string, string | boolean | undefined>,
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

/** Opens a project, turning a ProjectError into the one-line message users get. */
export async function openProject(
  projectDir: string,
  data: string | undefined,
  lifecycle: Partial<LifecycleOptions>,
): Promise<Engine> {
  try {
    return await Engine.open({ projectDir, ...(data ? { dataDir: resolve(data) } : {}), lifecycle });
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
      const line = `[${who}] ${l.message}\n`;
      if (l.level === "error" || l.level === "warn") process.stderr.write(line);
      else process.stdout.write(line);
    });
  }
  engine.events.on("problem", (p) => process.stderr.write(`terrarium: ${p.message}\n`));
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
