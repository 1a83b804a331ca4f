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

  it("a held stub keeps its target's object awake until the holder disposes it", async () => {
    // The Owner hibernates after 100 + 300 ms of quiet; the Holder (and everything else) stays up.
    const quick = { idleAfterMs: 100, hibernateAfterMs: 300 };
    const { engine } = await engines.open("rpc-stubs", {
      lifecycle: {
        poolSize: 2,
        policy: { idleAfterMs: 60_000, hibernateAfterMs: 60_000 },
        classPolicies: { Owner: quick },
      },
    });
    const api = controlApi(engine);
    const idOf = async (name: string): Promise<string> =>
      ((await request(engine, "GET", `/owner?name=${name}`)).json as { id: string }).id;
    const stateOf = async (id: string): Promise<string | undefined> => (await api.getObject(id))?.state;
    const ownerId = await idOf("owner");

    // The Owner's last event: the Holder's calls on the stub go straight to its worker.
    expect((await request(engine, "GET", "/take")).json).toEqual({ value: 1 });
    const held = async (): Promise<boolean> =>
      (await api.whyAwake(ownerId)).reasons.some((r) => r.kind === "held-stubs" && r.blocks);
    await until(held, "the held stub named as what keeps the owner awake");
    expect((await api.whyAwake(ownerId)).reasons.find((r) => r.kind === "held-stubs")!.detail).toMatch(
      /^held RPC stubs: 1 /,
    );

    let total = 1;
    for (let round = 1; round <= 3; round++) {
      // Another Owner, with the same timings, last used after the held one: once it
      // hibernated, the held one would have too, had the stub not kept it awake.
      const bystander = await idOf(`by${round}`);
      expect((await request(engine, "GET", `/ping?name=by${round}`)).json).toEqual({ ping: "pong" });
      await until(
        async () => (await stateOf(bystander)) === "Hibernating",
        `bystander ${round} to hibernate`,
      );
      expect(["Active", "Idle"]).toContain(await stateOf(ownerId));
      total += round;
      expect((await request(engine, "GET", `/add?n=${round}`)).json).toEqual({ ok: total });
    }
    expect(await stateOf(ownerId)).toBe("Idle");

    // Disposed, the stub no longer holds it: the owner hibernates on its own schedule.
    expect((await request(engine, "GET", "/drop")).json).toEqual({ dropped: true });
    await until(async () => (await stateOf(ownerId)) === "Hibernating", "the owner to hibernate");
    expect(await held()).toBe(false);
  });
});
