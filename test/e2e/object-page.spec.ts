import WebSocket from "ws";
import { expect, KITCHEN, SOCKETS, test } from "./fixtures.ts";

test.describe("one object's sockets and a request sent to it", () => {
  test.use({ source: SOCKETS });

  test("lists the object's WebSockets, also while it hibernates, and sends it a request", async ({
    app,
    ui,
    shot,
  }) => {
    const { inspector } = app;
    const base = ui.routerUrl.replace(/^http/, "ws");
    const clients = await Promise.all(
      ["alice", "bob"].map(
        (user) =>
          new Promise<WebSocket>((ok, fail) => {
            const ws = new WebSocket(`${base}/room/r1?user=${user}`);
            ws.once("open", () => ok(ws));
            ws.once("error", fail);
          }),
      ),
    );
    try {
      await app.show("Inspector");
      await inspector.row("r1").click();
      await inspector.panel("Sockets").click();
      await expect(inspector.sockets).toHaveCount(2);
      await expect(inspector.sockets.filter({ hasText: "alice" })).toContainText("hibernatable");
      await expect(inspector.sockets.filter({ hasText: "bob" })).toContainText("open");

      await inspector.panel("Send request").click();
      await inspector.objectRequestPath.fill("/anything");
      await inspector.sendToObject.click();
      await expect(inspector.objectResponse.getByTestId("response-status")).toHaveText(/^200/);
      await expect(inspector.objectResponse.getByTestId("response-body")).toContainText('"sockets": 2');
      await shot("object-request");

      await inspector.hibernate.click();
      await expect(inspector.currentState()).toHaveAttribute("data-state", "Hibernating");
      await inspector.panel("Sockets").click();
      await expect(inspector.sockets).toHaveCount(2);
      await expect(inspector.sockets.first()).toContainText("open");
      await shot("object-sockets");
    } finally {
      for (const c of clients) c.terminate();
    }
  });
});

test.describe("one object's events and SQL writes", () => {
  test.use({ source: KITCHEN });

  test("shows events published and received, and writes SQL through a live object's worker", async ({
    app,
    shot,
  }) => {
    const { console: con, inspector } = app;
    await app.show("Console");
    await con.request("POST", "/count/ev");
    await expect(con.status).toHaveText(/^200/);
    await con.send.click();
    await expect(con.history).toHaveCount(2);

    await app.show("Inspector");
    await inspector.row("ev").click();
    await inspector.panel("Events").click();
    await expect(inspector.publishedEvents).toHaveCount(2);
    await expect(inspector.publishedEvents.first()).toContainText("count.changed");
    await expect(inspector.publishedEvents.first()).toContainText('"value":2');

    await inspector.back.click();
    await inspector.row("log-ev").click();
    await expect(inspector.receivedEvents).toHaveCount(2);
    await expect(inspector.receivedEvents.first()).toHaveAttribute("data-status", "delivered");
    await expect(inspector.receivedEvents.first()).toContainText("onEvent()");
    await shot("object-events");

    // SQL: read-only until unlocked; then a write runs in the live object's worker.
    await inspector.panel("Storage").click();
    await inspector.query("INSERT INTO seen VALUES (999, 'by hand', 7)");
    await expect(inspector.sqlError).toContainText("unlock writes");
    await inspector.unlockWrites.check();
    await inspector.runSql.click();
    await expect(inspector.sqlResult).toContainText("1 written");
    await expect(inspector.currentState()).not.toHaveAttribute("data-state", "Hibernating");
    await inspector.unlockWrites.uncheck();
    await inspector.query("SELECT topic, value FROM seen WHERE event_id = 999");
    await expect(inspector.sqlResult).toContainText("by hand");

    // The publisher of a received event opens its page.
    await inspector.panel("Events").click();
    await inspector.receivedEvents
      .first()
      .getByRole("button", { name: /KvCounter · ev/ })
      .click();
    await expect(inspector.title).toHaveText("ev");
  });
});
