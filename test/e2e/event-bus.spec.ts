import { expect, KITCHEN, test } from "./fixtures.ts";

test.describe("a project with routes, several classes and the Event Bus", () => {
  test.use({ source: KITCHEN });

  test("the canvas draws its routes and subscriptions; the inspector shows KV storage and bus events", async ({
    app,
    shot,
  }) => {
    const { design, console: con, inspector } = app;
    await expect(design.classNode("KvCounter")).toBeVisible();
    await expect(design.classNode("Audit")).toContainText("Analytics");
    await expect(design.canvas.locator('[data-edge-kind="route"]')).toContainText("/direct/:name");
    await expect(design.canvas.locator('[data-edge-kind="subscription"]')).toContainText("count.*");
    await shot("design-kitchen");

    await app.show("Console");
    await con.request("POST", "/count/ann");
    await expect(con.responseBody).toContainText('"value": 1');

    // The counter keeps its value in ctx.storage: the KV entries show it.
    await app.show("Inspector");
    await inspector.row("ann").click();
    await inspector.panel("Storage").click();
    await expect(inspector.kv.getByRole("row").filter({ hasText: "n" }).last()).toContainText("1");

    // Its increment published count.changed; the Audit object received it.
    await inspector.section("Event bus").click();
    await expect(inspector.topic("count.changed")).toContainText("AUDIT(log-{data.name}).onEvent");
    const event = inspector.eventBus.getByRole("row").filter({ hasText: '"name":"ann"' });
    await expect(event).toBeVisible();
    await event.click();
    await expect(inspector.eventBus.getByRole("row").filter({ hasText: "delivered" })).toBeVisible();
    await shot("event-bus");
  });
});
