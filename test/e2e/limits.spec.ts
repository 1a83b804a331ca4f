import { join, resolve } from "node:path";
import { expect, test } from "./fixtures.ts";

const SMALL = join(resolve(import.meta.dirname, "..", ".."), "test", "fixtures", "small-bindings");

test.describe("a project with a rate limiter and an Analytics Engine dataset", () => {
  test.use({ source: SMALL });

  test("the Inspector shows the limiter's settings, counts and calls, and the data points written", async ({
    app,
    ui,
    shot,
  }) => {
    const page = app.page;
    // The limiter allows 2 a minute per key; what it answered decides what the page must show
    // (a minute may turn between two calls on a busy machine).
    let allowed = 0;
    let limited = 0;
    for (const path of ["/entry?key=alice", "/entry?key=alice", "/entry?key=alice", "/room?key=bob"]) {
      const r = (await (await fetch(`${ui.routerUrl}${path}`)).json()) as { success: boolean };
      if (r.success) allowed++;
      else limited++;
    }

    await app.show("Inspector");
    await app.inspector.section("Rate limits").click();
    const limiter = page.getByTestId("limiter");
    await expect(limiter.getByRole("heading")).toContainText("env.LIMITER 2 per 60 s · namespace 1");
    await expect(page.getByTestId("limiter-totals")).toContainText(
      `${allowed} calls allowed, ${limited} limited since Terrarium started`,
    );
    await expect(page.getByTestId("limiter-call")).toHaveCount(4);
    await expect(page.getByTestId("limiter-call").first()).toContainText("bob");
    await expect(page.getByTestId("limiter-call").filter({ hasText: "limited" })).toHaveCount(limited);
    await shot("inspector-rate-limits");

    await app.inspector.section("Analytics").click();
    const points = page.getByTestId("data-point");
    await expect(points).toHaveCount(4);
    await expect(page.getByTestId("dataset-counts")).toHaveText("page_views: 4 points");
    await expect(points.first()).toContainText("room, bob");
    await expect(points.last()).toContainText("entry, alice");
    await expect(points.last()).toContainText("1, 0.5");
    await shot("inspector-analytics");
  });
});
