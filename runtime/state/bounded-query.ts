import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { compileNodeEntries } from "../build/bundler.ts";
import type { QueryResult } from "../shared/sql-query.ts";

export interface QueryJob {
  id: number;
  path: string;
  sql: string;
  params: unknown[];
  limit: number;
}

export type QueryReply =
  { id: number; ok: true; result: QueryResult } | { id: number; ok: false; message: string };

/** How long a statement from the Inspector may run before it is stopped. */
export const QUERY_TIMEOUT_MS = 10_000;

let entry: Promise<string> | null = null;

function queryEntry(): Promise<string> {
  entry ??= compileNodeEntries({ "query.worker": join(import.meta.dirname, "query.worker.ts") }).then(
    (paths) => paths["query.worker"]!,
  );
  return entry;
}

/**
 * Read-only statements on database files, run in a child process that is
 * killed (and started again for the next one) when a statement runs past
 * `timeoutMs`. better-sqlite3 cannot interrupt a statement, and a worker
 * thread cannot be ended while native code runs, so a statement that never
 * ends (a recursive CTE without a bound) would otherwise hold the
 * orchestrator's thread, and with it every object, for ever.
 */
export class BoundedQueries {
  #child: ChildProcess | null = null;
  #nextId = 1;
  readonly #pending = new Map<
    number,
    { child: ChildProcess; resolve: (r: QueryResult) => void; reject: (e: Error) => void }
  >();
  readonly #timeoutMs: number;

  constructor(timeoutMs = QUERY_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
  }

  async #process(): Promise<ChildProcess> {
    if (this.#child) return this.#child;
    const child = fork(await queryEntry(), [], {
      execArgv: [],
      stdio: ["ignore", "ignore", "ignore", "ipc"],
    });
    child.unref();
    child.on("message", (m: QueryReply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.message));
    });
    child.once("exit", (code, signal) => {
      if (this.#child === child) this.#child = null;
      this.#failAll(child, new Error(`the query process ended (${signal ?? code}) without an answer`));
    });
    this.#child = child;
    return child;
  }

  /** Fails the statements a process that ended had (not those of the one started after it). */
  #failAll(child: ChildProcess, e: Error): void {
    for (const [id, p] of this.#pending) {
      if (p.child !== child) continue;
      this.#pending.delete(id);
      p.reject(e);
    }
  }

  async run(job: Omit<QueryJob, "id">): Promise<QueryResult> {
    const child = await this.#process();
    const id = this.#nextId++;
    return new Promise<QueryResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.#pending.has(id)) return;
        // Everything queued behind it goes too: the process is ended.
        this.#pending.delete(id);
        reject(new Error(`the statement ran for more than ${this.#timeoutMs / 1000} s and was stopped`));
        if (this.#child === child) this.#child = null;
        child.kill("SIGKILL");
      }, this.#timeoutMs);
      this.#pending.set(id, {
        child,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send({ ...job, id } satisfies QueryJob);
    });
  }

  close(): void {
    this.#child?.kill("SIGKILL");
    this.#child = null;
  }
}
