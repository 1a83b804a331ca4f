/**
 * The commands that run until they are stopped. Every harness starts them
 * with --exit-on-stdin-close and a pipe on their stdin that only the test
 * process holds (and never writes): when the test run is killed, the pipe
 * closes (and the parent is gone), so the command stops as on SIGTERM and
 * a killed vitest leaves no server behind (docs/reliability.md, "With the
 * parent"). `mcp` always ends with its stdin.
 */
const LONG_RUNNING = new Set(["serve", "ui", "load"]);

export const EXIT_WITH_TEST = "--exit-on-stdin-close";

/** `args` (a terrarium command line) tied to this process, and the stdin to spawn it with. */
export function tiedToTest(args: readonly string[]): { args: string[]; stdin: "pipe" | "ignore" } {
  if (!LONG_RUNNING.has(args[0] ?? "")) return { args: [...args], stdin: "ignore" };
  return { args: args.includes(EXIT_WITH_TEST) ? [...args] : [...args, EXIT_WITH_TEST], stdin: "pipe" };
}
