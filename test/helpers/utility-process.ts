import { fork } from "node:child_process";
import { constants } from "node:os";
import { resolve } from "node:path";
import type { UtilityChild } from "../../electron/engine-host.ts";

/**
 * Electron's `utilityProcess.fork` stood in for (no Electron binary on
 * these machines): a real Node child process running the module, with
 * `process.parentPort` made from its IPC channel (structured clones, as
 * Electron's port sends), and ended when its parent goes, as Electron ends
 * its utility processes with the app.
 */
const SHIM = resolve(import.meta.dirname, "utility-process-shim.ts");

export function forkUtility(modulePath: string): UtilityChild & { readonly exited: Promise<number> } {
  const child = fork(SHIM, [modulePath], {
    execArgv: ["--import", "tsx"],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  // Electron reports an exit code; a child ended by a signal is reported as 128 + its number here.
  const code = (c: number | null, signal: NodeJS.Signals | null): number =>
    c ?? 128 + (signal ? constants.signals[signal] : 0);
  const exited = new Promise<number>((r) => child.once("exit", (c, s) => r(code(c, s))));
  return {
    get pid() {
      return child.pid;
    },
    exited,
    postMessage(message: unknown) {
      if (child.connected) child.send(message as object);
    },
    on(event: "message" | "exit", listener: (arg: never) => void) {
      if (event === "message") child.on("message", listener as (m: unknown) => void);
      else child.on("exit", (c, s) => (listener as (n: number) => void)(code(c, s)));
      return this;
    },
    kill() {
      return child.kill();
    },
  };
}
