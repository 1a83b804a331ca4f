import { describe, expect, it } from "vitest";
import { enginesPerTest, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const engines = enginesPerTest();

describe("sharding", () => {
  it("adds shards through the Scaling state when load passes the target, and spreads keys over them", async () => {
    const { engine } = await engines.open("sharded");
    const send = (user: string) =>
      controlApi(engine).sendRequest({
        method: "GET",
        path: "/tally/hot?wait=150",
        headers: [["x-user", user]],
      });
    // Load for 4 s, or until all four shards exist; past 4 s, only until two
    // shards have answered (a busy machine scales later, not differently).
    const start = Date.now();
    const shardsSeen = new Set<string>();
    const loading = (): boolean => {
      const shards = engine.lifecycle.shardGroups()[0]?.shards ?? 1;
      // Four shards is the most there can be; keep on until a new one has answered.
      if ((shards === 4 && shardsSeen.size >= 2) || Date.now() - start > 20_000) return false;
      return Date.now() - start < 4_000 || shards < 2 || shardsSeen.size < 2;
    };
    let u = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (loading()) {
          const r = await send(`user-${u++}`);
          expect(r.status).toBe(200);
          shardsSeen.add((JSON.parse(r.body) as { shard: string }).shard);
        }
      }),
    );
    const groups = engine.lifecycle.shardGroups();
    expect(groups[0]?.shards).toBeGreaterThanOrEqual(2);
    expect(shardsSeen.size).toBeGreaterThanOrEqual(2);
    expect(shardsSeen.has("hot")).toBe(true);
    // Busy shards record their Scaling step when their Processing span ends.
    await until(
      async () => (await controlApi(engine).transitions({ limit: 5000 })).some((t) => t.to === "Scaling"),
      "a Scaling transition",
    );
    const transitions = await controlApi(engine).transitions({ limit: 5000 });
    const scaling = transitions.filter((t) => t.to === "Scaling");
    expect(scaling.map((t) => t.cause).join("\n")).toMatch(
      /scaling hot from \d to \d shards: mean in-flight [\d.]+ above the target 2/,
    );
    const created = transitions.filter((t) => t.to === "Created").length;
    expect(created).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it("lowers the shard count when load falls", async () => {
    const { engine } = await engines.open("sharded");
    const deadline = Date.now() + 20_000;
    let u = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (Date.now() < deadline && (engine.lifecycle.shardGroups()[0]?.shards ?? 1) < 2) {
          await controlApi(engine).sendRequest({
            method: "GET",
            path: "/tally/cool?wait=150",
            headers: [["x-user", `u${u++}`]],
          });
        }
      }),
    );
    expect(engine.lifecycle.shardGroups()[0]?.shards).toBeGreaterThanOrEqual(2);
    await until(() => engine.lifecycle.shardGroups()[0]!.shards === 1, "the shards to fall back to one");
  }, 30_000);
});
