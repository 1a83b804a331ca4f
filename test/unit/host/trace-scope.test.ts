import { describe, expect, it } from "vitest";
import { currentTrace, traceScopeOn, underTrace } from "../../../runtime/host/trace-scope.ts";

/** A promise and its resolve, to interleave events by hand. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("the trace scope inside a worker", () => {
  it("follows each traced event through its awaits, with events interleaved, and is off once none runs", async () => {
    const a = { t: "a".repeat(32), s: "span-a" };
    const b = { t: "b".repeat(32), s: "span-b" };
    const gateA = deferred();
    const gateB = deferred();
    const seen: Record<string, unknown> = {};
    const runA = underTrace(a, async () => {
      seen.aBefore = currentTrace();
      await gateA.promise;
      seen.aAfter = currentTrace();
      return "a";
    });
    const runB = underTrace(b, async () => {
      await gateB.promise;
      seen.bAfter = currentTrace();
      return "b";
    });
    const untraced = underTrace(undefined, async () => {
      await null;
      return currentTrace();
    });
    expect(traceScopeOn()).toBe(true);
    gateB.resolve();
    expect(await runB).toBe("b");
    // A still runs: the scope stays on for it.
    expect(traceScopeOn()).toBe(true);
    gateA.resolve();
    expect(await runA).toBe("a");
    expect(await untraced).toBeUndefined();
    expect(seen).toEqual({ aBefore: a, aAfter: a, bAfter: b });
    await null;
    expect(traceScopeOn()).toBe(false);
    expect(currentTrace()).toBeUndefined();
  });

  it("turns off after a traced event that throws, at once or later", async () => {
    const t = { t: "c".repeat(32), s: "span-c" };
    expect(() =>
      underTrace(t, () => {
        throw new Error("at once");
      }),
    ).toThrow("at once");
    expect(traceScopeOn()).toBe(false);
    await expect(
      underTrace(t, async () => {
        await null;
        throw new Error("later");
      }),
    ).rejects.toThrow("later");
    await null;
    expect(traceScopeOn()).toBe(false);
    // And on again for the next traced event.
    const again = underTrace(t, async () => {
      await null;
      return currentTrace();
    });
    expect(await again).toEqual(t);
  });
});
