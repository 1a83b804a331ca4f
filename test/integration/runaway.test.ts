import { describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/engine.ts";
import { enginesPerTest, request, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const engines = enginesPerTest();

async function objectNamed(engine: Engine, name: string) {
  const all = await controlApi(engine).listObjects({ search: name });
  return all.objects.find((o) => o.name === name);
}

describe("runaway and crashing objects", () => {
  it("ends an object that blows its memory limit, and keeps serving others", async () => {
    const { engine } = await engines.open("kitchen", { lifecycle: { memoryLimitMb: 64 } });
    const hog = await request(engine, "GET", "/hog/1");
    expect(hog.status).toBe(500);
    expect(hog.body).toMatch(/was reset: .*(memory|ERR_WORKER_OUT_OF_MEMORY)/i);
    expect((await request(engine, "POST", "/count/fine")).status).toBe(200);
    const obj = await objectNamed(engine, "hog-1");
    expect(obj?.state).toBe("Hibernating");
    expect(obj?.lastError).toMatch(/memory/i);
    const causes = (await controlApi(engine).transitions({ objectId: obj!.id })).map((t) => t.cause);
    expect(causes.some((c) => /memory/i.test(c))).toBe(true);
  });

  it("resets an object after an uncaught exception: memory lost, storage kept", async () => {
    const { engine } = await engines.open("kitchen");
    await request(engine, "POST", "/count/crash-x");
    expect((await request(engine, "GET", "/crash/x")).json).toBe("scheduled");
    await until(
      async () => (await objectNamed(engine, "crash-x"))?.state === "Hibernating",
      "crash-x to hibernate",
    );
    expect((await objectNamed(engine, "crash-x"))?.lastError).toContain("uncaught in a timer");
    expect((await request(engine, "GET", "/read/crash-x")).json).toEqual({ stored: 1, memory: 0 });
  });

  it("ctx.abort() resets the object on purpose", async () => {
    const { engine } = await engines.open("kitchen");
    await request(engine, "GET", "/abort/y");
    await until(
      async () => (await objectNamed(engine, "abort-y"))?.state === "Hibernating",
      "abort-y to hibernate",
    );
    expect((await objectNamed(engine, "abort-y"))?.lastError).toContain("on purpose");
  });
});
