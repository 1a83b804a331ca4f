import { resolve } from "node:path";
import { expect, test } from "./fixtures.ts";

const ASSETS = resolve(import.meta.dirname, "..", "fidelity", "projects", "assets");
const ASSETS_ONLY = resolve(import.meta.dirname, "..", "fidelity", "projects", "assets-only");

test.describe("a project with static assets", () => {
  test.use({ source: ASSETS });

  test("shows its assets folder and binding on the Design canvas, and the Router serves them", async ({
    app,
    ui,
    shot,
  }) => {
    const { design } = app;
    await expect(design.assets).toContainText("Static assets");
    await expect(design.assets).toContainText("public/ · env.ASSETS");
    await expect(design.assets.locator("title")).toHaveText(
      "html_handling: auto-trailing-slash\nnot_found_handling: 404-page\nrun_worker_first: /api/*, /about, !/api/docs/*",
    );
    await shot("design-assets");
    const css = await fetch(`${ui.routerUrl}/style.css`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await css.text()).toContain("font-family");
  });
});

test.describe("an assets-only project", () => {
  test.use({ source: ASSETS_ONLY });

  test("opens with no Worker and says so", async ({ app, ui }) => {
    const { design } = app;
    await expect(design.canvas.getByText("none: assets only")).toBeVisible();
    await expect(design.assets).toContainText("public/");
    expect(await (await fetch(`${ui.routerUrl}/about`)).text()).toContain("<h1>About</h1>");
  });
});
