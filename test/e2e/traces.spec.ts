import { expect, test, TRACES } from "./fixtures.ts";

test.describe("traces across objects", () => {
  test.use({ source: TRACES });

  test("a request's trace as a waterfall: spans per object, logs under them, click through to the object", async ({
    app,
    page,
    shot,
  }) => {
    const { console: con, inspector } = app;
    await app.show("Console");
    await con.request("GET", "/order/o1");
    await expect(con.responseBody).toContainText('"paid": 201');
    await con.request("GET", "/explode/x");
    await expect(con.responseBody).toContainText("out of stock");

    await app.show("Inspector");
    await inspector.section("Traces").click();
    const traces = page.getByTestId("trace-row");
    await expect(traces.filter({ hasText: "GET /order/o1" })).toContainText("Orders → Stock → Mailer");
    await expect(traces.filter({ hasText: "GET /explode/x" })).toContainText("500");

    // Searching by status leaves the failed one.
    await page.getByLabel("Status").selectOption("5xx");
    await expect(traces).toHaveCount(1);
    await expect(traces.first()).toContainText("/explode/x");
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Object").fill("Mailer");
    await expect(traces).toHaveCount(1);
    await shot("traces-list");

    await traces.first().click();
    const waterfall = page.getByTestId("waterfall");
    const spans = waterfall.getByTestId("span");
    await expect(spans.filter({ hasText: "event order.placed" })).toContainText("Mailer mailer");
    await expect(spans.locator(":scope[data-kind='request']")).toContainText("GET /order/o1");
    await expect(spans.locator(":scope[data-kind='rpc']")).toContainText("rpc reserve()");
    await expect(spans.locator(":scope[data-kind='outbound']")).toContainText(
      "POST https://pay.example/charge",
    );
    // Each log line under the span that wrote it.
    await expect(spans.locator(":scope[data-kind='rpc']").getByTestId("span-log")).toContainText(
      "reserved stock for o1",
    );
    await expect(spans.locator(":scope[data-kind='event']").getByTestId("span-log")).toContainText(
      "mailing about order o1",
    );
    await shot("traces-waterfall");

    // The Stock span's object opens its page.
    await spans
      .locator(":scope[data-kind='rpc']")
      .getByRole("button", { name: /Stock main/ })
      .click();
    await expect(inspector.title).toContainText("main");
    await expect(inspector.objectPage).toContainText("Stock");
  });
});
