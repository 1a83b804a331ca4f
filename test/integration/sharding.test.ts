import { afterEach, describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/engine.ts";
import { openEngine, tempProject } from "../helpers/project.ts";

let project: ReturnType<typeof tempProject>;
let engine: Engine | null = null;

afterEach(async () => {
  await engine?.close();
  engine = null;
  project.cleanup();
});

describe("sharding", () => {
  it("adds shards through the Scaling state when load passes the target, and spreads keys over them", async () => {
    project = tempProject("sharded");
    engine = await openEngine(project.dir, project.dataDir);
    const send = (user: string) =>
      engine!.api.sendRequest({ method: "GET", path: "/tally/hot?wait=150", headers: [["x-user", user]] });
    const deadline = Date.now() + 4_000;
    const shardsSeen = new Set<string>();
    let u = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (Date.now() < deadline && engine!.lifecycle.shardGroups()[0]?.shards !== 4) {
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
    await new Promise((r) => setTimeout(r, 400));
    const transitions = await engine.api.transitions({ limit: 5000 });
    const scaling = transitions.filter((t) => t.to === "Scaling");
    expect(scaling.length).toBeGreaterThan(0);
    expect(scaling.map((t) => t.cause).join("\n")).toMatch(
      /scaling hot from 1 to 2 shards: mean in-flight [\d.]+ above the target 2/,
    );
    const created = transitions.filter((t) => t.to === "Created").length;
    expect(created).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it("lowers the shard count when load falls", async () => {
    project = tempProject("sharded");
    engine = await openEngine(project.dir, project.dataDir);
    const deadline = Date.now() + 3_000;
    let u = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (Date.now() < deadline && (engine!.lifecycle.shardGroups()[0]?.shards ?? 1) < 2) {
          await engine!.api.sendRequest({
            method: "GET",
            path: "/tally/cool?wait=150",
            headers: [["x-user", `u${u++}`]],
          });
        }
      }),
    );
    expect(engine.lifecycle.shardGroups()[0]?.shards).toBeGreaterThanOrEqual(2);
    const start = Date.now();
    while (Date.now() - start < 5_000 && engine.lifecycle.shardGroups()[0]!.shards > 1)
      await new Promise((r) => setTimeout(r, 100));
    expect(engine.lifecycle.shardGroups()[0]!.shards).toBe(1);
  }, 30_000);
});
