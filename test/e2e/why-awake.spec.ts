import WebSocket from "ws";
import { AWAKE, expect, test } from "./fixtures.ts";

test.describe("why is it awake", () => {
  test.use({ source: AWAKE, uiArgs: ["--idle-after", "60000", "--hibernate-after", "60000"] });

  test("shows what holds an object awake, in the table and on its page, and what hibernating loses", async ({
    app,
    ui,
    shot,
  }) => {
    const { inspector } = app;
    await fetch(`${ui.routerUrl}/n/nap/store`);
    await fetch(`${ui.routerUrl}/n/nap/`);
    const ws = await new Promise<WebSocket>((ok, fail) => {
      const s = new WebSocket(`${ui.routerUrl.replace(/^http/, "ws")}/n/nap/ws`);
      s.once("open", () => ok(s));
      s.once("error", fail);
    });
    const hws = await new Promise<WebSocket>((ok, fail) => {
      const s = new WebSocket(`${ui.routerUrl.replace(/^http/, "ws")}/n/nap/hws?user=ada`);
      s.once("open", () => ok(s));
      s.once("error", fail);
    });
    try {
      await app.show("Inspector");
      await expect(inspector.awakeCell("nap")).toHaveText("standard WebSocket");
      await shot("why-awake-table");

      await inspector.row("nap").click();
      await expect(inspector.whyAwake).toContainText("Why is it awake?");
      await expect(inspector.whyReasons.filter({ hasText: "ws.accept()" })).toHaveAttribute(
        "data-kind",
        "standard-websocket",
      );
      await expect(inspector.whyAwake).toContainText("does not hibernate while this holds");
      await inspector.hibernateAndWake.click();
      await expect(inspector.whyAwake.getByTestId("wake-error")).toContainText(
        "cannot hibernate now: 1 WebSocket accepted with ws.accept()",
      );
      await shot("why-awake-held");

      ws.close();
      await expect(inspector.whyReasons.filter({ hasText: "ws.accept()" })).toHaveCount(0);
      await expect(inspector.whyAwake).toContainText(/hibernates in \d+ s if nothing arrives/);
      await inspector.hibernateAndWake.click();
      await expect(inspector.wakeResult).toContainText("Hibernated and woke");
      const lost = inspector.wakeResult.locator("tr.lost");
      await expect(lost.filter({ hasText: "hits" })).toContainText("4");
      await expect(inspector.wakeResult.getByRole("row").filter({ hasText: "stored" })).toContainText("same");
      await expect(inspector.wakeResult).toContainText("1 hibernatable WebSocket stayed connected");
      await shot("why-awake-woke");
    } finally {
      ws.terminate();
      hws.terminate();
    }
  });
});
