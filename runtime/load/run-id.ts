// Run ids, apart from the run store so that the contract can check them
// without pulling Node modules into a browser or preload bundle.

/** `20261127T221302175Z-4ebc9d`: the start time (UTC, to the ms) and a random suffix. */
export const RUN_ID = /^[0-9]{8}T[0-9]{9}Z-[0-9a-f]{6}$/;

export function newRunId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:.]/g, "");
  const rand = Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, "0");
  return `${stamp}-${rand}`;
}
