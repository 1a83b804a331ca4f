/**
 * The load generator's process: forked by GeneratorProcess (client.ts), it
 * runs one plan and reports over IPC. Keeping it out of the orchestrator's
 * process means its timers never queue behind the engine's work, and its
 * CPU is its own to measure.
 */
import { Generator } from "./generator.ts";
import type { FromGenerator, ToGenerator } from "./client.ts";

let generator: Generator | null = null;

function send(msg: FromGenerator): void {
  process.send?.(msg);
}

process.on("message", (raw: unknown) => {
  const msg = raw as ToGenerator;
  if (msg.type === "stop") {
    generator?.stop();
    return;
  }
  if (msg.type !== "run" || generator) return;
  const g = new Generator(msg.plan, (tick) => send({ type: "tick", tick }));
  generator = g;
  g.run().then(
    (result) => send({ type: "done", result }),
    (e: unknown) => send({ type: "failed", error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});

// The parent went away: nothing is left to report to.
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
