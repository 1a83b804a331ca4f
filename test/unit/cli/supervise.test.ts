import { describe, expect, it } from "vitest";
import { describeCrash, refusalMessage } from "../../../runtime/cli/supervise.ts";
import type { WorkerObject } from "../../../runtime/lifecycle/lifecycle.ts";

// What the supervisor of `terrarium serve` says when the engine process dies:
// from Node's fatal-error report (which names only the thread) and the map of
// threads to objects the engine keeps it told of.

const hog: WorkerObject = { className: "Bad", id: "ab".repeat(32), name: "hog-big-b" };
const threads = new Map<number, WorkerObject | null>([
  [3, hog],
  [4, null],
]);
const oom = (threadId: number) => ({
  header: { event: "Allocation failed - JavaScript heap out of memory", threadId },
});

describe("describeCrash", () => {
  it("names the object whose worker ran out of memory, and refuses it once", () => {
    const c = describeCrash("SIGABRT", oom(3), threads, 128);
    expect(c.object).toEqual(hog);
    expect(c.outOfMemory).toBe(true);
    expect(c.what).toBe(
      'Durable Object Bad "hog-big-b" (abababab) ran out of memory: an allocation past its 128 MB heap limit, too large for Node to stop the thread alone, aborted the engine process (SIGABRT)',
    );
    expect(refusalMessage(hog, 128)).toMatch(
      new RegExp(
        `^Durable Object Bad ${hog.id} was reset: it ran out of memory with an allocation past its 128 MB heap limit`,
      ),
    );
  });

  it("says so when the thread had no object, or was the engine's own", () => {
    expect(describeCrash("SIGABRT", oom(4), threads, 128)).toMatchObject({
      object: null,
      what: expect.stringMatching(/^a worker thread with no Durable Object on it/),
    });
    expect(describeCrash("SIGABRT", oom(0), threads, 128).what).toMatch(/^the engine's main thread ran out/);
    expect(describeCrash("SIGABRT", oom(99), threads, 128).object).toBeNull();
  });

  it("falls back on the signal when there is no report", () => {
    expect(describeCrash("SIGKILL", null, threads, 128)).toEqual({
      what: "the engine process was killed by SIGKILL (the system's out-of-memory killer, or another process)",
      object: null,
      outOfMemory: false,
    });
    expect(describeCrash("SIGSEGV", null, threads, 128).what).toBe("the engine process was ended by SIGSEGV");
  });

  it("names another fatal error without refusing anyone", () => {
    const c = describeCrash(
      "SIGABRT",
      { header: { event: "Some V8 check failed", threadId: 3 } },
      threads,
      128,
    );
    expect(c.outOfMemory).toBe(false);
    expect(c.what).toContain("hit a fatal error (Some V8 check failed)");
  });
});
