import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, test } from "./fixtures.ts";

const SHARDED = resolve(import.meta.dirname, "..", "fixtures", "sharded");

// A ramp to a rate one Tally shard cannot keep under its in-flight target
// (60 req/s of 50 ms requests is 3 in flight against a target of 2), then a
// spike: the scaler adds shards while the charts draw.
const PROFILE = {
  description: "ramp, hold and a spike on a sharded tally",
  stages: [
    { duration: "2s", target: 60 },
    { duration: "5s", target: 60 },
  ],
  spike: { at: "4s", duration: "1s", target: 120 },
  keys: "uniform:40",
  requests: [{ path: "/tally/t?wait=50", headers: { "x-user": "u{key}" } }],
};

test.describe("the console's Load tab", () => {
  test.use({
    source: SHARDED,
    edits: [
      {
        file: "terrarium.json",
        find: `"routes": [`,
        replace: `"loadProfiles": { "ramp-spike": ${JSON.stringify(PROFILE)} },\n  "routes": [`,
      },
    ],
  });

  test("runs a profile with live charts and scaling marks, saves it, edits the profile and compares two runs", async ({
    app,
    ui,
    shot,
  }) => {
    const { load } = app;
    await app.show("Console");
    await app.console.section("Load").click();
    await expect(load.profile).toHaveValue("ramp-spike");
    await expect(load.json).toHaveValue(/"target": 120/);

    await load.start.click();
    await expect(load.stop).toBeVisible();
    await expect(load.charts).toHaveCount(4);
    // The charts move: seconds arrive while the run goes, and every chart draws them.
    await expect.poll(() => load.seconds(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    const early = await load.seconds();
    await expect.poll(() => load.seconds(), { timeout: 15_000 }).toBeGreaterThan(early);
    for (const chart of await load.charts.all()) {
      await expect(chart).not.toHaveAttribute("data-points", "0");
    }
    await expect(load.stages).toHaveText([
      /^0–2s ramp 0→60/,
      /^2–4s hold 60/,
      /^4–5s spike 120/,
      /^5–7s hold 60/,
    ]);
    // The scaler shards the tally under this load; each decision is marked on the time axis.
    await expect(load.scalingMarks.first()).toContainText(/Tally t from 1 to 2 shards: mean in-flight/, {
      timeout: 15_000,
    });
    await expect(load.classTable).toContainText("Tally");
    await expect(load.hotTable).toContainText("t#");
    await expect(load.heatCells.first()).toBeVisible();
    expect(await load.heatCells.count()).toBeGreaterThanOrEqual(2);
    await shot("console-load");

    // At its end the run is saved and opened: its summary, with the charts of every second.
    await expect(load.summary).toBeVisible({ timeout: 20_000 });
    await expect(load.summary).toContainText("answered");
    await expect(load.runs).toHaveCount(1);
    await expect(load.runs.first()).toContainText("ramp-spike");
    expect(await load.scalingMarks.count()).toBeGreaterThanOrEqual(1);
    await shot("console-load-run");

    // Edit the profile: a slower rate, saved to terrarium.json.
    const edited = {
      ...PROFILE,
      stages: [
        { duration: "1s", target: 20 },
        { duration: "9s", target: 20 },
      ],
    };
    delete (edited as { spike?: unknown }).spike;
    await load.json.fill(JSON.stringify(edited, null, 2));
    await expect(load.start).toHaveText("Start (as edited)");
    await load.save.click();
    await expect(load.start).toHaveText("Start");
    const saved = JSON.parse(readFileSync(join(ui.projectDir, "terrarium.json"), "utf8")) as {
      loadProfiles: Record<string, { stages: unknown[] }>;
      sharding: unknown;
    };
    expect(saved.loadProfiles["ramp-spike"]!.stages).toEqual(edited.stages);
    expect(saved.sharding).toBeTruthy();

    // A profile that does not check is refused with the field at fault, and the file is left alone.
    await load.json.fill(JSON.stringify({ ...edited, stages: [] }));
    await load.save.click();
    await expect(load.profileError).toContainText("stages");
    await load.json.fill(JSON.stringify(edited, null, 2));

    // A second run, stopped early, then both compared.
    await load.start.click();
    await expect.poll(() => load.seconds(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await load.stop.click();
    await expect(load.runs).toHaveCount(2, { timeout: 15_000 });
    await load.pick(0).check();
    await load.pick(1).check();
    await load.compareButton.click();
    await expect(load.compareTable.getByRole("row")).toHaveCount(10);
    await expect(load.compareTable).toContainText("Throughput (answered)");
    await expect(app.page.getByTestId("compare").getByTestId("load-chart")).toHaveCount(2);
    await shot("console-load-compare");
  });
});
