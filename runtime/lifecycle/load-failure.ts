import { errorText } from "../shared/errors.ts";
import { ModuleLoadError, type CodeVersion } from "./live.ts";

/** What keeping the load failure needs of the Lifecycle Manager. */
export interface LoadFailureDeps {
  /** The current code: a failure of older code is not recorded. */
  code(): CodeVersion;
  log(level: "error" | "info", message: string): void;
  /** Fails the events waiting for a worker with the error (WorkerPool.failWaiters). */
  failWaiters(error: Error): void;
}

/**
 * Set while the current code's main module throws when it loads (a
 * top-level throw, an import that fails at run time): the error every
 * request, RPC call and event gets instead of a worker, until a code change
 * loads.
 */
export class LoadFailure {
  readonly #deps: LoadFailureDeps;
  #error: ModuleLoadError | null = null;

  constructor(deps: LoadFailureDeps) {
    this.#deps = deps;
  }

  /** The current code's load error, or null. */
  get error(): ModuleLoadError | null {
    return this.#error;
  }

  /** Records that `code` throws while loading and returns the error its events fail with. */
  failed(code: CodeVersion, e: unknown): ModuleLoadError {
    const failure = new ModuleLoadError(errorText(e));
    if (code !== this.#deps.code()) return failure;
    const first = this.#error === null;
    this.#error = failure;
    if (first) {
      this.#deps.log(
        "error",
        `${failure.message}; every request fails with this error until the code is fixed`,
      );
      this.#deps.failWaiters(failure);
    }
    return failure;
  }

  /** New code that failed to load too: while the current code does not load either, its error is the one shown. */
  stillFailing(e: ModuleLoadError): void {
    if (this.#error) this.#error = e;
  }

  /** New code loaded: the failure ends. */
  loaded(): void {
    if (!this.#error) return;
    this.#error = null;
    this.#deps.log("info", "the Worker's main module loads again");
  }
}
