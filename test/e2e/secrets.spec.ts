import { join, resolve } from "node:path";
import { expect, test, WORKERS } from "./fixtures.ts";

const SECRETS = join(resolve(import.meta.dirname, "..", ".."), "test", "fixtures", "secrets");

// The workers fixture's .dev.vars holds SECRET=dev-secret, and its front Worker answers it.
test.describe("a project with secrets in .dev.vars and two Workers", () => {
  test.use({
    source: WORKERS,
    uiArgs: ["-c", "{project}/wrangler.jsonc", "-c", "{project}/back/wrangler.jsonc"],
  });

  test("secret values are masked in the editor until revealed, and in the console's answers", async ({
    app,
    shot,
  }) => {
    const page = app.page;
    const { design } = app;
    await app.show("Design");
    await design.treeFile(".dev.vars").click();
    const masked = page.getByTestId("secrets-masked");
    await expect(masked.locator("pre")).toHaveText("SECRET=••••••");
    await expect(page.locator("body")).not.toContainText("dev-secret");
    await shot("editor-secrets-masked");
    await masked.getByRole("button", { name: "Reveal values to edit" }).click();
    await expect(design.code()).toContainText("SECRET=dev-secret");
    await page.getByRole("button", { name: "Hide values" }).click();
    await expect(masked).toBeVisible();
    await expect(page.locator("body")).not.toContainText("dev-secret");

    // The Worker answers the secret; the console shows it masked, and keeps it so in its history.
    await app.show("Console");
    await app.console.request("GET", "/");
    await expect(app.console.responseBody).toContainText('"secret": "••••••"');
    await expect(page.locator("body")).not.toContainText("dev-secret");
  });

  test("the Objects table lists the other Worker's objects, saying where they are kept", async ({
    app,
    ui,
    shot,
  }) => {
    expect(await (await fetch(`${ui.routerUrl}/count`)).json()).toEqual({ count: 1 });
    await app.show("Inspector");
    const back = app.page.getByTestId("worker-objects");
    await expect(back.getByRole("heading")).toContainText(
      "Worker back (back/wrangler.jsonc) · 1 object of Counter",
    );
    await expect(back).toContainText(`${ui.dataDir}/workers/back`);
    const row = back.getByTestId("worker-object");
    await expect(row).toHaveCount(1);
    await expect(row).toContainText("Counter");
    await expect(row).toContainText("visits");
    await shot("inspector-other-workers");

    // Its page: the other Worker's object with the project Worker's objects' actions, run in that Worker.
    await row.click();
    await expect(app.inspector.title).toHaveText("visits");
    await expect(app.page.getByTestId("foreign-object")).toContainText("An object of the Worker back (-c)");
    await expect(app.page.getByRole("tablist", { name: "Object panels" }).getByRole("tab")).toHaveText([
      "Lifecycle",
      "Storage",
      "Snapshots",
      "Send request",
      "Alarms",
      "Logs",
    ]);
    await expect(app.inspector.transitions.first()).toBeVisible();
    // Hibernate: the transition arrives on the live stream.
    await app.inspector.hibernate.click();
    await expect(app.inspector.currentState()).toHaveAttribute("data-state", "Hibernating");
    await expect(app.page.locator('[data-testid="transition"][data-to="Hibernating"]')).toHaveCount(1);
    // A write on its file while it sleeps, then read back.
    await app.page.getByRole("tab", { name: "Storage" }).click();
    await expect(app.inspector.kv).toContainText("n");
    await app.inspector.unlockWrites.check();
    await app.inspector.query("CREATE TABLE notes (t TEXT)");
    await expect(app.inspector.sqlResult).toBeVisible();
    await app.inspector.query("INSERT INTO notes VALUES ('by hand')");
    await expect(app.inspector.sqlResult).toContainText("1 written");
    await app.inspector.unlockWrites.uncheck();
    await app.inspector.query("SELECT t FROM notes");
    await expect(app.inspector.sqlResult).toContainText("by hand");
    // A snapshot, kept by that Worker.
    await app.page.getByRole("tab", { name: "Snapshots" }).click();
    await app.page.getByRole("button", { name: "Take snapshot" }).click();
    await expect(app.page.getByTestId("snapshot-row")).toHaveCount(1);
    // Its next call wakes it, live.
    expect(await (await fetch(`${ui.routerUrl}/count`)).json()).toEqual({ count: 2 });
    await app.page.getByRole("tab", { name: "Lifecycle" }).click();
    await expect(app.inspector.currentState()).not.toHaveAttribute("data-state", "Hibernating");
    await shot("inspector-other-worker-object");
  });
});

// The secrets fixture's code answers, logs and sends on a WebSocket its .dev.vars TOKEN (tok-4f2a9c).
test.describe("a project whose code leaks a secret", () => {
  test.use({ source: SECRETS });

  test("the console's response and the WebSocket console's messages show it masked", async ({
    app,
    shot,
  }) => {
    const { console: con } = app;
    await app.show("Console");
    await con.request("GET", "/");
    await expect(con.responseBody).toContainText('"token": "••••••"');
    await expect(con.responseBody).toContainText('"short": "on"');

    await con.section("WebSocket").click();
    await con.wsPath.fill("/ws");
    await con.wsConnect.click();
    await expect(con.wsStatus).toHaveText("open");
    await con.wsSay("my token is tok-4f2a9c");
    await expect(con.wsEntry("sent", "my token is ••••••")).toBeVisible();
    await expect(con.wsEntry("received", "echo: my token is •••••• (token ••••••)")).toBeVisible();
    await expect(app.page.locator("body")).not.toContainText("tok-4f2a9c");
    await shot("console-websocket-secret-masked");
  });
});
