import { expect, SOCKETS, test } from "./fixtures.ts";

test.describe("the console's WebSocket client", () => {
  test.use({ source: SOCKETS });

  test("connects to an object through the router, exchanges messages, and the object shows up", async ({
    app,
    shot,
  }) => {
    const { console: con, inspector } = app;
    await app.show("Console");
    await con.section("WebSocket").click();
    await con.wsPath.fill("/room/lobby?user=ann");
    await con.wsConnect.click();
    await expect(con.wsStatus).toHaveText("open");

    await con.wsSay("hello");
    await expect(con.wsEntry("sent", "hello")).toBeVisible();
    await expect(con.wsEntry("received", "ann#1: hello")).toBeVisible();
    // Answered by the orchestrator's auto-response, without waking the object.
    await con.wsSay("ping");
    await expect(con.wsEntry("received", /^pong$/)).toBeVisible();
    await con.wsSay("who");
    await expect(con.wsEntry("received", '"user":"ann"')).toBeVisible();
    await shot("console-websocket");

    await app.show("Inspector");
    await expect(inspector.row("lobby")).toContainText("Room");

    // The object closes the socket itself: the client sees its code and reason.
    await app.show("Console");
    await con.wsSay("bye");
    await expect(con.wsEntry("info", "closed: 4001 bye ann")).toBeVisible();
    await expect(con.wsStatus).toHaveText("closed");
  });

  test("a path that does not upgrade is reported, not hung on", async ({ app }) => {
    const { console: con } = app;
    await app.show("Console");
    await con.section("WebSocket").click();
    await con.wsPath.fill("/plain-upgrade");
    await con.wsConnect.click();
    await expect(con.wsEntry("error", "failed")).toBeVisible();
    await expect(con.wsStatus).toHaveText("closed");
  });
});
