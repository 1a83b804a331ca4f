import { expect, test, WORKERS } from "./fixtures.ts";

test.describe("several Workers in one environment", () => {
  test.use({
    source: WORKERS,
    uiArgs: ["-c", "{project}/wrangler.jsonc", "-c", "{project}/back/wrangler.jsonc", "--env", "staging"],
  });

  test("the header says which environment runs, and Design draws each Worker and the bindings between them", async ({
    app,
    ui,
    shot,
  }) => {
    const page = app.page;
    await expect(page.getByTestId("app-env")).toHaveText("env: staging");
    await expect(page.getByTestId("app-workers")).toHaveText("2 Workers");

    // The router serves the first Worker, which calls the second through its service binding.
    const r = await fetch(`${ui.routerUrl}/`);
    expect(await r.json()).toMatchObject({ greeting: "hello from staging", back: "back in staging", sum: 3 });

    await app.show("Design");
    const back = page.getByTestId("worker-back-staging");
    await expect(back).toBeVisible();
    await expect(back).toContainText("back-staging");
    await expect(back).toContainText("back/wrangler.jsonc");
    await expect(back).toContainText("no service bindings");
    await expect(app.design.canvas).toContainText("Worker front-staging & Durable Objects");
    const edge = app.design.canvas.locator('[data-edge-kind="binding"]');
    await expect(edge).toHaveCount(1);
    await expect(edge).toContainText("env.BACK");
    await shot("design-workers");
  });
});

test.describe("a service binding to a Worker that does not run", () => {
  test.use({ source: WORKERS });

  test("is drawn as a Worker that is not running, saying how to add it", async ({ app }) => {
    await expect(app.page.getByTestId("app-env")).toHaveCount(0);
    await app.show("Design");
    const back = app.page.getByTestId("worker-back");
    await expect(back).toContainText("not running");
    await expect(back).toContainText("add it with -c");
  });
});
