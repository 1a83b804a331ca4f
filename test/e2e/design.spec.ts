import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "./fixtures.ts";

test.describe("the Design view's side panel on the counter sample", () => {
  test("edits a route, renames the class with its objects, and deletes it", async ({
    app,
    ui,
    project,
    shot,
  }) => {
    const { design } = app;
    const read = (p: string): string => readFileSync(join(project.dir, p), "utf8");

    // An object with data, so the rename has something to move.
    const inc = await fetch(`${ui.routerUrl}/counter/alpha/increment`, { method: "POST" });
    expect(await inc.json()).toEqual({ name: "alpha", value: 1 });

    // Routes: one straight to the object, saved to terrarium.json and applied at once.
    await design.panelTab("Routes & subscriptions").click();
    await design.panelButton("+ Route").click();
    await design.panelField("Route 1 pattern").fill("/c/:name");
    await design.panelField("Route 1 methods").fill("get");
    await design.panelField("Route 1 object").fill("{name}");
    await design.panelButton("Save to terrarium.json").click();
    await expect(design.panelStatus).toContainText("Saved routes and subscriptions to terrarium.json");
    expect(JSON.parse(read("terrarium.json")).routes).toEqual([
      { pattern: "/c/:name", binding: "COUNTER", object: "{name}", method: "GET" },
    ]);
    expect(await (await fetch(`${ui.routerUrl}/c/alpha`)).json()).toEqual({ value: 1 });
    await shot("design-panel-routes");

    // A route to nowhere is refused with the reason, and the file keeps the good one.
    await design.panelField("Route 1 pattern").fill("c/no-slash");
    await design.panelButton("Save to terrarium.json").click();
    await expect(design.panelError).toContainText("must start with /");
    expect(JSON.parse(read("terrarium.json")).routes[0].pattern).toBe("/c/:name");
    await design.panelField("Route 1 pattern").fill("/c/:name");

    // Rename: the code, the binding, a renamed_classes migration; the object keeps its count.
    await design.classNode("Counter").click();
    await expect(design.panelTab("Class")).toHaveAttribute("aria-selected", "true");
    await expect(design.page.getByText("1 object", { exact: false }).first()).toBeVisible();
    await design.panelField("Rename to").fill("Tally");
    await design.panelButton("Rename").click();
    await expect(design.panelStatus).toContainText("Renamed Counter to Tally");
    await expect(design.panelStatus).toContainText("1 object moved with its storage");
    await expect(design.classNode("Tally")).toBeVisible();
    await expect(design.code()).toContainText("export class Tally extends DurableObject");
    expect(read("wrangler.jsonc")).toMatch(/"renamed_classes": \[\s*\{\s*"from": "Counter",\s*"to": "Tally"/);
    expect(await (await fetch(`${ui.routerUrl}/counter/alpha`)).json()).toEqual({ name: "alpha", value: 1 });
    await shot("design-panel-class");

    // Delete: confirmed, then the class, its route and its objects are gone.
    design.page.once("dialog", (d) => {
      expect(d.message()).toContain("Delete class Tally?");
      void d.accept();
    });
    await design.panelButton("Delete class…").click();
    await expect(design.panelStatus).toContainText("Deleted Tally");
    await expect(design.classNode("Tally")).toHaveCount(0);
    expect(read("wrangler.jsonc")).toMatch(/"deleted_classes": \[\s*"Tally"\s*\]/);
    expect(JSON.parse(read("terrarium.json")).routes).toBeUndefined();
  });
});
