import { AWAKE, expect, test } from "./fixtures.ts";

const PROFILE = {
  description: "stores under a steady rate",
  rate: 40,
  duration: "2s",
  keys: "uniform:4",
  requests: [{ path: "/n/k{key}/store" }],
};

test.describe("the cost of a run", () => {
  test.use({
    source: AWAKE,
    edits: [
      {
        file: "terrarium.json",
        find: `"routes": [`,
        replace: `"loadProfiles": { "stores": ${JSON.stringify(PROFILE)} },\n  "routes": [`,
      },
    ],
  });

  test("shows a saved run's monthly cost per line and per class, and the project's since it started", async ({
    app,
    shot,
  }) => {
    const { load } = app;
    await app.show("Console");
    await app.console.section("Load").click();
    await expect(load.profile).toHaveValue("stores");
    await load.start.click();
    await expect(load.summary).toBeVisible({ timeout: 30_000 });

    await expect(load.cost).toContainText("a month at this rate, plus the $5.00 Workers Paid plan");
    // Rows as the cursors count them (as workerd does): every store writes
    // one row, and each of the 4 objects' first start writes 4 more (its
    // table, the primary key's index, and the first insert's index entry).
    // 80 requests over keys uniform:4 reach every key.
    const requests = load.costLine("requests").locator("td").first();
    await expect(requests).not.toHaveText("0");
    const sent = Number((await requests.textContent())!.replace(/,/g, ""));
    await expect(load.costLine("rowsWritten").locator("td").first()).toHaveText(
      (sent + 4 * 4).toLocaleString("en-US"),
    );
    await expect(load.costClass("Napper")).toBeVisible();
    await expect(load.page.getByTestId("cost-notes")).toContainText("Rows written");
    await load.cost.scrollIntoViewIfNeeded();
    await shot("cost-run");

    await load.cost.getByRole("button", { name: "Since the project started" }).click();
    await expect(load.cost).toContainText("since ");
    await expect(load.costClass("Napper")).toBeVisible();
  });
});
