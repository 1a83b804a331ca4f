import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { LoadJob, LoadReply, LoadResult } from "./protocol.ts";

/** The load generator process (bench/load.ts), driven over IPC one job at a time. */
export class LoadClient {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(r: LoadResult): void; reject(e: Error): void }>();
  #nextId = 1;
  #exited = false;

  constructor(repoRoot: string) {
    this.#child = fork(join(repoRoot, "bench", "load.ts"), [], {
      cwd: repoRoot,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child.on("message", (raw: unknown) => {
      const msg = raw as LoadReply;
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.type === "result") p.resolve(msg.result);
      else p.reject(new Error(`load generator: ${msg.error}`));
    });
    this.#child.once("exit", (code, signal) => {
      this.#exited = true;
      for (const p of this.#pending.values()) {
        p.reject(new Error(`load generator exited (code ${code}, signal ${signal})`));
      }
      this.#pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  run(job: LoadJob): Promise<LoadResult> {
    if (this.#exited) return Promise.reject(new Error("load generator is not running"));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ type: "job", id, job });
    });
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((r) => this.#child.once("exit", () => r()));
    this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }

  killNow(): void {
    if (!this.#exited) this.#child.kill("SIGKILL");
  }
}
