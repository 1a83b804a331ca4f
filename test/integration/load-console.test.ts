import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RunStore } from "../../runtime/load/runs.ts";
import { enginesPerTest, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const engines = enginesPerTest();

const BURST = {
  description: "a slow tally under a steady rate",
  rate: 20,
  duration: "60s",
  keys: "uniform:8",
  requests: [{ path: "/tally/t?wait=5", headers: { "x-user": "u{key}" } }],
};

describe("load runs from the console", () => {
  it("saves a profile to terrarium.json, keeping the rest, and refuses one that does not check", async () => {
    const { engine, project } = await engines.open("sharded");
    const file = join(project.dir, "terrarium.json");
    const before = readFileSync(file, "utf8");
    expect(await controlApi(engine).loadProfiles()).toEqual({});

    await expect(
      controlApi(engine).saveLoadProfile({
        name: "bad",
        profile: { duration: "5s", requests: [{ path: "/" }] },
      }),
    ).rejects.toThrow(/needs a rate/);
    expect(readFileSync(file, "utf8")).toBe(before);
    await expect(controlApi(engine).saveLoadProfile({ name: "../x", profile: BURST })).rejects.toThrow(
      /letters, digits/,
    );

    const all = await controlApi(engine).saveLoadProfile({ name: "burst", profile: BURST });
    expect(Object.keys(all)).toEqual(["burst"]);
    expect(all["burst"]).toMatchObject({ rate: 20, keys: "uniform:8" });
    const saved = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(saved["sharding"]).toEqual(JSON.parse(before).sharding);
    expect(saved["loadProfiles"]).toEqual({ burst: BURST });
    expect(await controlApi(engine).loadProfiles()).toEqual(all);
  });

  it("streams a run's seconds since the last one seen, and closing the engine ends and saves the run", async () => {
    const t = await engines.open("sharded");
    const engine = t.engine;
    await engine.listen(0);
    await controlApi(engine).saveLoadProfile({ name: "burst", profile: BURST });
    // Started by name at once: the profile is read from the file, not from the engine's last reload.
    const { id } = await controlApi(engine).startLoad({ profile: "burst" });

    await until(
      async () => ((await controlApi(engine).loadStatus()).active?.series.length ?? 0) >= 3,
      "three load samples",
    );
    const status = await controlApi(engine).loadStatus(1);
    const active = status.active!;
    expect(active).toMatchObject({ id, profile: "burst", model: "open", durationMs: 60_000 });
    expect(active.levels).toEqual([
      { t: 0, level: 20 },
      { t: 60_000, level: 20 },
    ]);
    expect(active.series.length).toBeGreaterThanOrEqual(2);
    expect(active.series.every((s) => s.t > 1)).toBe(true);
    const cpu = active.series.flatMap((s) => s.engine?.hottest ?? []).reduce((n, o) => n + o.cpuMs, 0);
    expect(cpu).toBeGreaterThan(0);
    expect(active.series[0]!.engine!.shards.map((g) => g.className)).toContain("Tally");

    await t.stop();
    const runs = new RunStore(t.project.dataDir).list();
    expect(runs.map((r) => r.id)).toEqual([id]);
    expect(runs[0]!.elapsedMs).toBeLessThan(60_000);
    expect(runs[0]!.completed).toBeGreaterThan(0);
  });
});
