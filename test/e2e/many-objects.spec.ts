import { expect, test } from "./fixtures.ts";

test.describe("the objects table with 10,000 objects", () => {
  test.use({ seedObjects: 10_000 });

  test("renders only the rows in view, scrolls to the last one, and filters at once", async ({
    app,
    page,
    shot,
  }) => {
    const { inspector } = app;
    await app.show("Inspector");
    await expect(inspector.count).toHaveText("10,000 of 10,000 objects");
    await expect(inspector.row("user-00000")).toBeVisible();
    // Virtualised: a screenful of rows in the DOM, not ten thousand.
    expect(await inspector.rows.count()).toBeLessThan(80);
    await shot("inspector-10k");

    // Scroll through the whole list in 40 steps; every step paints its rows.
    const body = page.getByRole("rowgroup", { name: "Object rows" });
    // NOTE: how fast it scrolls is a benchmark's question, not this test's.
    for (let i = 1; i <= 40; i++) {
      // NOTE: test code is type-checked without the DOM lib; the element is the list's scroller.
      await body.evaluate((el, f) => {
        const box = el as unknown as { scrollTop: number; scrollHeight: number };
        box.scrollTop = box.scrollHeight * f;
      }, i / 40);
      await expect(inspector.rows.first()).toBeVisible();
    }
    await expect(inspector.row("user-09999")).toBeVisible();
    expect(await inspector.rows.count()).toBeLessThan(80);

    // Search narrows 10,000 rows as the user types.
    await inspector.search.fill("user-0420");
    await expect(inspector.count).toHaveText("10 of 10,000 objects");
    await expect(inspector.row("user-04201")).toBeVisible();
    await inspector.search.fill("");
    await inspector.stateFilter.selectOption("Active");
    await expect(inspector.count).toHaveText("0 of 10,000 objects");
  });
});
