import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { compileNodeEntries } from "../build/bundler.ts";
import type { GeneratorResult, GeneratorTick } from "./generator.ts";
import type { LoadPlan } from "./profile.ts";

export type ToGenerator = { type: "run"; plan: LoadPlan } | { type: "stop" };
export type FromGenerator =
  | { type: "ready" }
  | { type: "tick"; tick: GeneratorTick }
  | { type: "done"; result: GeneratorResult }
  | { type: "failed"; error: string };

let entry: Promise<string> | null = null;

function generatorEntry(): Promise<string> {
  entry ??= compileNodeEntries({
    "generator.worker": join(import.meta.dirname, "generator.worker.ts"),
  }).then((paths) => paths["generator.worker"]!);
  return entry;
}

/**
 * The generator's process, seen from the side that starts a run: one plan,
 * a tick a second, one result. `stop` ends the run early (what is in flight
 * still finishes); `kill` ends the process.
 */
export class GeneratorProcess {
  readonly #child: ChildProcess;
  readonly #ready: Promise<void>;
  #result: Promise<GeneratorResult> | null = null;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#ready = new Promise((resolve, reject) => {
      const onMessage = (m: FromGenerator): void => {
        if (m.type !== "ready") return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve();
      };
      const onExit = (code: number | null): void => reject(new Error(`load generator exited with ${code}`));
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
  }

  static async start(): Promise<GeneratorProcess> {
    const file = await generatorEntry();
    const child = fork(file, [], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    const g = new GeneratorProcess(child);
    await g.#ready;
    return g;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  run(plan: LoadPlan, onTick: (t: GeneratorTick) => void): Promise<GeneratorResult> {
    if (this.#result) throw new Error("a generator process runs one plan");
    const child = this.#child;
    this.#result = new Promise((resolve, reject) => {
      const onMessage = (m: FromGenerator): void => {
        if (m.type === "tick") onTick(m.tick);
        else if (m.type === "done") resolve(m.result);
        else if (m.type === "failed") reject(new Error(`load generator: ${m.error}`));
      };
      child.on("message", onMessage);
      child.once("exit", (code, signal) =>
        reject(new Error(`load generator exited (code ${code}, signal ${signal})`)),
      );
    });
    child.send({ type: "run", plan } satisfies ToGenerator);
    return this.#result;
  }

  stop(): void {
    if (this.#child.connected) this.#child.send({ type: "stop" } satisfies ToGenerator);
  }

  /** Ends the process (after a run, or to abandon one). */
  async close(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  }
}
