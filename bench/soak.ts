/**
 * `npm run bench:soak`: the soak of docs/reliability.md, "Load held", for
 * five minutes (the test suite runs the same for 30 s): up to a steady rate
 * (20 clients that wait for their answers, test/reliability/soak-run.ts) over
 * 1,000 objects that keep hibernating and waking, then the serve process's
 * memory, file descriptors and threads against the start. Prints the
 * figures and PASS/FAIL (informational: exits 0 whenever it ran).
 *
 * Flags: --duration S (default 300), --rate N (100), --objects N (1000),
 * --warmup S (10).
 */
import { parseArgs } from "node:util";
import { POOL_ALLOWANCE, soak } from "../test/reliability/soak-run.ts";

const { values: flags } = parseArgs({
  options: {
    duration: { type: "string", default: "300" },
    rate: { type: "string", default: "100" },
    objects: { type: "string", default: "1000" },
    warmup: { type: "string", default: "10" },
  },
});

const f = await soak({
  durationS: Number(flags.duration),
  rate: Number(flags.rate),
  objects: Number(flags.objects),
  warmupS: Number(flags.warmup),
  log: (l) => process.stdout.write(`${l}\n`),
});
const check = (what: string, ok: boolean, detail: string): void => {
  process.stdout.write(`${ok ? "PASS" : "FAIL"}  ${what.padEnd(34)} ${detail}\n`);
};
process.stdout.write(
  `\n${f.sent} requests in ${f.durationS} s at ${f.rate}/s over ${f.objects} objects; ` +
    `${f.activations} object starts (hibernation cycles); p99 ${f.p99Ms} ms\n\n`,
);
check("zero errors", f.errors === 0, `${f.errors} errors, ${f.completed}/${f.sent} answered`);
// Idle workers are kept for reuse (up to 32), so what the process holds once every object
// hibernated may grow by that pool, and no further however many cycles ran.
const trail = (k: "rssMb" | "fds" | "threads"): string => `${f.start[k]} -> ${f.half[k]} -> ${f.end[k]}`;
check(
  "memory flat (RSS within 10%, 2nd half)",
  f.end.rssMb <= f.half.rssMb * 1.1,
  `${trail("rssMb")} MB (the first half warms the pool and the heaps)`,
);
check(
  "no file descriptors leaked",
  f.end.fds <= f.start.fds + POOL_ALLOWANCE.fds,
  `${trail("fds")} (the idle pool may hold ${POOL_ALLOWANCE.fds})`,
);
check(
  "no worker threads leaked",
  f.end.threads <= f.start.threads + POOL_ALLOWANCE.threads,
  `${trail("threads")} OS threads (the idle pool may hold ${POOL_ALLOWANCE.threads})`,
);
