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
    // Every store wrote one row: the rows written a month are the requests a month.
    const requests = load.costLine("requests").locator("td").first();
    await expect(requests).not.toHaveText("0");
    const sent = await requests.textContent();
    await expect(load.costLine("rowsWritten").locator("td").first()).toHaveText(sent!);
    await expect(load.costClass("Napper")).toBeVisible();
    await expect(load.page.getByTestId("cost-notes")).toContainText("Rows written");
    await load.cost.scrollIntoViewIfNeeded();
    await shot("cost-run");

    await load.cost.getByRole("button", { name: "Since the project started" }).click();
    await expect(load.cost).toContainText("since ");
    await expect(load.costClass("Napper")).toBeVisible();
  });
});
