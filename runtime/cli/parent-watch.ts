/** How often the parent process is looked for (--exit-on-stdin-close). */
const PARENT_POLL_MS = 1_000;

/**
 * Calls `gone` once stdin ends (the parent closed its pipe, or died) or the
 * parent process ends (this process is reparented: `process.ppid` changes,
 * looked at every second on an unref'd timer). Only for a parent that asks
 * (--exit-on-stdin-close): see stopOnSignals. Returns the function that
 * stops watching the parent.
 */
export function onParentGone(gone: () => void): () => void {
  process.stdin.on("end", gone);
  process.stdin.on("error", gone);
  process.stdin.resume();
  const parent = process.ppid;
  const poll = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(poll);
      gone();
    }
  }, PARENT_POLL_MS);
  poll.unref();
  return () => clearInterval(poll);
}
