import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach } from "vitest";
import { Engine, type EngineOptions } from "../../runtime/engine.ts";
import { unmaskedControlApi } from "../../runtime/api/control-api.ts";

export const FIXTURES = resolve(import.meta.dirname, "..", "fixtures");

/** A private copy of a fixture project and a fresh data directory, removed by `cleanup`. */
export function tempProject(fixture: string): { dir: string; dataDir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "terrarium-test-"));
  const dir = join(root, "project");
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  return { dir, dataDir: join(root, "data"), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export async function openEngine(
  dir: string,
  dataDir: string,
  opts: Partial<EngineOptions> = {},
): Promise<Engine> {
  return Engine.open({
    projectDir: dir,
    dataDir,
    lifecycle: { poolSize: 1, ...opts.lifecycle },
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.traces ? { traces: opts.traces } : {}),
  });
}

/** One test's engine on a private copy of a fixture; `stop` and `reopen` restart it on the same data folder. */
export interface TestEngine {
  readonly project: ReturnType<typeof tempProject>;
  readonly engine: Engine;
  /** Closes the engine and keeps its project and data folder (`reopen` starts it again). */
  stop(): Promise<void>;
  reopen(opts?: Partial<EngineOptions>): Promise<Engine>;
}

/**
 * Engines for the tests of one file: each `open` copies a fixture and starts
 * an engine on it; whatever a test opened is closed and removed as that test
 * ends, pass or fail.
 */
export function enginesPerTest(): {
  open(fixture: string, opts?: Partial<EngineOptions>): Promise<TestEngine>;
} {
  const opened: { project: ReturnType<typeof tempProject>; engine: Engine | null }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) {
      await o.engine?.close();
      o.project.cleanup();
    }
  });
  return {
    async open(fixture, opts = {}) {
      const entry: (typeof opened)[number] = { project: tempProject(fixture), engine: null };
      opened.push(entry);
      entry.engine = await openEngine(entry.project.dir, entry.project.dataDir, opts);
      return {
        project: entry.project,
        get engine() {
          return entry.engine!;
        },
        async stop() {
          await entry.engine?.close();
          entry.engine = null;
        },
        async reopen(again = opts) {
          await entry.engine?.close();
          entry.engine = null;
          entry.engine = await openEngine(entry.project.dir, entry.project.dataDir, again);
          return entry.engine;
        },
      };
    },
  };
}

/** A request through the router, as the console sends it; the answer as the code gave it (secrets unmasked). */
export async function request(engine: Engine, method: string, path: string, body?: string) {
  const res = await unmaskedControlApi(engine).sendRequest({
    method,
    path,
    ...(body !== undefined ? { body } : {}),
  });
  let json: unknown = undefined;
  try {
    json = JSON.parse(res.body);
  } catch {
    // not JSON
  }
  return { status: res.status, body: res.body, json };
}

/**
 * Waits for `cond`, polling, and names `what` it waited for when it gives
 * up. The bound is generous on purpose: it only ends a test that would
 * otherwise hang, on a machine that may be busy with something else.
 */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
