import { describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/engine.ts";
import { FakeClock } from "../../runtime/shared/clock.ts";
import { enginesPerTest, request, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const engines = enginesPerTest();

const log = async (engine: Engine, name: string) =>
  (await request(engine, "GET", `/alarm-log/${name}`)).json as { retryCount: number; isRetry: boolean }[];

describe("alarms", () => {
  it("fires when due, once, with retryCount 0", async () => {
    const { engine } = await engines.open("kitchen");
    await request(engine, "GET", "/alarm/a?in=100");
    expect((await controlApi(engine).alarms()).length).toBe(1);
    await until(async () => (await log(engine, "a")).length === 1, "the first run of the alarm");
    expect(await log(engine, "a")).toEqual([
      { retryCount: 0, isRetry: false, scheduledTime: expect.any(Number) },
    ]);
    await until(async () => (await controlApi(engine).alarms()).length === 0, "every alarm to have fired");
  });

  it("retries a throwing handler with exponential backoff from 2 s (fake clock)", async () => {
    const clock = new FakeClock(Date.now());
    const { engine } = await engines.open("kitchen", { clock });
    const set = (await request(engine, "GET", "/alarm/r?in=0&fail=3")).json as number;
    const pending = async () => (await controlApi(engine).alarms())[0]!;
    // The handler logs before it throws; the retry is scheduled once the failure reaches the State Manager.
    const waitFor = async (n: number) =>
      until(
        async () => (await log(engine, "r")).length >= n && (n >= 4 || (await pending())?.retryCount === n),
        `run ${n} of the failing alarm`,
      );
    await clock.advance(set - clock.now() + 60);
    await waitFor(1);
    const r1 = await pending();
    expect(r1.retryCount).toBe(1);
    expect(r1.time - set).toBeGreaterThanOrEqual(2_000);
    expect(r1.time - set).toBeLessThan(2_200);
    await clock.advance(r1.time - clock.now() + 60);
    await waitFor(2);
    const r2 = await pending();
    expect(r2.time - r1.time).toBeGreaterThanOrEqual(4_000);
    expect(r2.time - r1.time).toBeLessThan(4_200);
    await clock.advance(r2.time - clock.now() + 60);
    await waitFor(3);
    const r3 = await pending();
    expect(r3.time - r2.time).toBeGreaterThanOrEqual(8_000);
    expect(r3.time - r2.time).toBeLessThan(8_200);
    await clock.advance(r3.time - clock.now() + 60);
    await waitFor(4);
    expect((await log(engine, "r")).map((i) => i.retryCount)).toEqual([0, 1, 2, 3]);
    expect((await log(engine, "r")).map((i) => i.isRetry)).toEqual([false, true, true, true]);
    await until(async () => (await controlApi(engine).alarms()).length === 0, "every alarm to have fired");
  });

  it("survives a restart, and one that fell due while stopped fires after start", async () => {
    const t = await engines.open("kitchen");
    const due = (await request(t.engine, "GET", "/alarm/p?in=500")).json as number;
    await t.stop();
    await until(() => Date.now() > due, "the alarm to fall due while the engine is stopped");
    const engine = await t.reopen();
    await until(
      async () => (await log(engine, "p")).length === 1,
      "the overdue alarm to fire after the restart",
    );
  });

  it("wakes a hibernating object, and can be fired now from the control API", async () => {
    const { engine } = await engines.open("kitchen", {
      lifecycle: { policy: { idleAfterMs: 10, hibernateAfterMs: 10 } },
    });
    await request(engine, "GET", "/alarm/h?in=3600000");
    const [pending] = await controlApi(engine).alarms();
    await until(
      async () => (await controlApi(engine).getObject(pending!.objectId))?.state === "Hibernating",
      "the object with the pending alarm to hibernate",
    );
    expect(await controlApi(engine).fireAlarm(pending!.objectId)).toBe(true);
    expect(await log(engine, "h")).toEqual([
      { retryCount: 0, isRetry: false, scheduledTime: expect.any(Number) },
    ]);
    const states = (await controlApi(engine).transitions({ objectId: pending!.objectId })).map((t) => t.to);
    expect(states.slice(-4)).toContain("Initializing");
  });
});
