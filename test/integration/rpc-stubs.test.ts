import { describe, expect, it } from "vitest";
import { controlApi } from "../../runtime/api/control-api.ts";
import { enginesPerTest, request, until } from "../helpers/project.ts";

const engines = enginesPerTest();

describe("RPC stubs across workers", () => {
  it("a stub held by one object calls into another until the target's object hibernates", async () => {
    const { engine } = await engines.open("rpc-stubs", { lifecycle: { poolSize: 2 } });
    expect((await request(engine, "GET", "/take")).json).toEqual({ value: 1 });
    // Held across requests, the stub reaches the Owner's worker directly.
    expect((await request(engine, "GET", "/add?n=2")).json).toEqual({ ok: 3 });
    expect((await request(engine, "GET", "/add?n=3")).json).toEqual({ ok: 6 });

    const ownerId = ((await request(engine, "GET", "/owner")).json as { id: string }).id;
    const api = controlApi(engine);
    expect(await api.hibernate(ownerId)).toBe(true);
    await until(
      async () => (await api.getObject(ownerId))?.state === "Hibernating",
      "the owner to hibernate",
    );

    // The target went with the object's memory: calls on the stub fail, saying why.
    const after = (await request(engine, "GET", "/add?n=1")).json as { error: string };
    expect(after.error).toMatch(/^Error: The Durable Object that held this RPC stub's target was evicted/);

    // A new stub from the woken owner works again, from a fresh counter.
    expect((await request(engine, "GET", "/take")).json).toEqual({ value: 1 });
    expect((await request(engine, "GET", "/add?n=4")).json).toEqual({ ok: 5 });
  });
});
