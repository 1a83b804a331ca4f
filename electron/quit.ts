/** The part of Electron's `app` that quitting uses. */
export interface QuittingApp {
  on(event: "before-quit", listener: (event: { preventDefault(): void }) => void): unknown;
  quit(): void;
  exit(code?: number): void;
}

/** Past the grace period, how long a stop may take before the app exits anyway (a bug if it does). */
const STOP_BACKSTOP_MS = 10_000;

/**
 * Quitting stops the open project first, in bounded time: the first quit is
 * held while `stop` runs (the engine's close, bounded by its grace period),
 * then goes ahead; a quit asked for while it stops (Cmd+Q again) exits at
 * once. `stop` resolves with the line saying what it cut short, if anything,
 * which is logged. Nothing to stop (no project open): the quit goes ahead.
 */
export function stopBeforeQuit(
  app: QuittingApp,
  stop: () => Promise<string | null> | null,
  opts: { graceMs: number; log?: (line: string) => void },
): void {
  const log = opts.log ?? ((line: string) => console.error(line));
  let state: "running" | "stopping" | "stopped" = "running";
  app.on("before-quit", (event) => {
    if (state === "stopped") return;
    if (state === "stopping") {
      event.preventDefault();
      log("terrarium: quit again, exiting now");
      app.exit(0);
      return;
    }
    const stopping = stop();
    if (stopping === null) {
      state = "stopped";
      return;
    }
    event.preventDefault();
    state = "stopping";
    const backstop = setTimeout(() => {
      log(
        `terrarium: stopping took longer than the ${opts.graceMs} ms grace period and ${STOP_BACKSTOP_MS} ms more; exiting`,
      );
      app.exit(1);
    }, opts.graceMs + STOP_BACKSTOP_MS);
    void stopping
      .then(
        (line) => {
          if (line) log(line);
        },
        (e: unknown) => log(`terrarium: error while stopping: ${e instanceof Error ? e.message : String(e)}`),
      )
      .finally(() => {
        clearTimeout(backstop);
        state = "stopped";
        app.quit();
      });
  });
}
