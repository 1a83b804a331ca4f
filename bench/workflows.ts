/**
 * `node --import tsx bench/workflows.ts [--steps N]`: what a Workflow step
 * costs. One instance runs N trivial `step.do` calls (each a call to the
 * orchestrator to look the step up, the user's function in the entry worker,
 * a second call to record the result in SQLite); then an instance that did
 * N steps and waits for an event is resumed after a restart of the engine,
 * which replays its N recorded steps before it takes the event.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Engine } from "../runtime/engine.ts";

const { values } = parseArgs({ options: { steps: { type: "string", default: "1000" } } });
const STEPS = Number(values.steps);
const PROJECT = resolve(import.meta.dirname, "projects", "workflows");
const dataDir = mkdtempSync(join(tmpdir(), "terrarium-bench-workflows-"));

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

try {
  let engine = await Engine.open({ projectDir: PROJECT, dataDir });
  // The list's counts by status: a cheap query, so polling does not slow what it measures.
  const complete = () => engine.workflows.list()[0]?.byStatus.complete ?? 0;

  let t = performance.now();
  engine.workflows.create("STEPS", [{ id: "run", params: { steps: STEPS, wait: false } }]);
  await until(() => complete() === 1);
  const runMs = performance.now() - t;
  console.log(
    `${STEPS} steps run:      ${runMs.toFixed(0)} ms (${((runMs / STEPS) * 1000).toFixed(0)} µs a step)`,
  );

  engine.workflows.create("STEPS", [{ id: "replay", params: { steps: STEPS, wait: true } }]);
  await until(() => (engine.workflows.instance("STEPS", "replay")?.steps ?? 0) === STEPS + 1);
  await engine.close();
  t = performance.now();
  engine = await Engine.open({ projectDir: PROJECT, dataDir });
  const openMs = performance.now() - t;
  engine.workflows.sendEvent("STEPS", "replay", "go", null);
  await until(() => complete() === 2);
  const replayMs = performance.now() - t - openMs;
  console.log(`engine reopened:      ${openMs.toFixed(0)} ms`);
  console.log(
    `${STEPS} steps replayed: ${replayMs.toFixed(0)} ms (${((replayMs / STEPS) * 1000).toFixed(0)} µs a step), then the event taken`,
  );
  await engine.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
