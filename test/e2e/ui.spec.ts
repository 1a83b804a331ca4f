import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "./fixtures.ts";

/** One console.log per increment in the sample's counter: logs for the Inspector to show. */
const LOGGING = {
  file: "src/index.ts",
  find: "increment(by = 1): number {",
  replace: "increment(by = 1): number {\n    console.log(`increment by ${by}`);",
};

test.describe("the UI on the counter sample", () => {
  test.use({ edits: [LOGGING] });

  test("a request from the console creates an object the inspector follows to Hibernating and back", async ({
    app,
    ui,
    shot,
  }) => {
    const { console: con, inspector } = app;

    // Design: the project as a topology, the class's code in the editor.
    await expect(app.design.canvas).toBeVisible();
    await expect(app.design.classNode("Counter")).toBeVisible();
    await expect(app.design.code()).toContainText("class Counter");
    await shot("design");

    // Console: send a request to the project's router.
    await app.show("Console");
    await con.request("POST", "/counter/alice/increment");
    await expect(con.status).toHaveText(/^200/);
    await expect(con.responseBody).toContainText('"value": 1');
    await expect(con.history.first()).toContainText("/counter/alice/increment");
    await con.copyCurl.click();
    await expect(con.curl).toHaveValue(`curl -i -X POST '${ui.routerUrl}/counter/alice/increment'`);
    await shot("console");

    // Inspector: the object appears, live.
    await app.show("Inspector");
    await expect(inspector.row("alice")).toBeVisible();
    await expect(inspector.row("alice")).toContainText("Counter");
    await expect(inspector.count).toHaveText("1 of 1 object");
    await shot("inspector");

    // One object: its lifecycle as a timeline and as the state diagram.
    await inspector.row("alice").click();
    await expect(inspector.title).toHaveText("alice");
    await expect(inspector.transitions.filter({ hasText: "Initializing" }).first()).toBeVisible();
    await expect(inspector.edge("Created", "Initializing")).toHaveAttribute("data-count", "1");
    await expect(inspector.edge("Initializing", "Active")).toHaveAttribute("data-count", "1");
    await shot("object-lifecycle");

    // Storage: a read-only SQL query, and a write refused until unlocked.
    await inspector.panel("Storage").click();
    await inspector.query("SELECT name, value FROM counts");
    await expect(inspector.sqlResult).toContainText("1 row");
    await expect(inspector.sqlResult.locator("td").nth(1)).toHaveText("1");
    await inspector.query("UPDATE counts SET value = 41");
    await expect(inspector.sqlError).toContainText("unlock writes");
    await inspector.table("counts").click();
    await expect(inspector.pager()).toContainText("rows 1–1");
    await expect(inspector.sqlResult.locator("td").nth(1)).toHaveText("1");
    await inspector.query("SELECT name, value FROM counts");
    await shot("object-storage");

    // Logs: what the object printed.
    await inspector.panel("Logs").click();
    await expect(inspector.logLines.first()).toContainText("increment by 1");
    await shot("object-logs");

    // Hibernate it now: the state, the timeline and the diagram say so.
    await inspector.panel("Lifecycle").click();
    await inspector.hibernate.click();
    await expect(inspector.currentState()).toHaveText("Hibernating");
    await expect(inspector.stateNode("Hibernating")).toHaveAttribute("aria-current", "true");
    await expect(inspector.transitions.first()).toHaveAttribute("data-to", "Hibernating");
    await shot("object-hibernating");

    // A new request wakes it: Hibernating -> Initializing -> Active, counted on the diagram.
    await app.show("Console");
    await con.request("POST", "/counter/alice/increment");
    await expect(con.responseBody).toContainText('"value": 2');
    await app.show("Inspector");
    await expect(inspector.edge("Hibernating", "Initializing")).toHaveAttribute("data-count", "1");
    await expect(inspector.edge("Initializing", "Active")).toHaveAttribute("data-count", "2");
    await expect(inspector.currentState()).not.toHaveText("Hibernating");

    // Back on the table, the row is live too.
    await inspector.back.click();
    await expect(inspector.rowState("alice")).not.toHaveText("Hibernating");
  });
});

test.describe("a live object and a code change", () => {
  // Long enough that the object is still live when the change is saved, on a busy machine too.
  test.use({ uiArgs: ["--hibernate-after", "600000"] });

  test("code edited and saved in the Design view is written to the project and served", async ({
    app,
    ui,
    shot,
  }) => {
    const { design, console: con, inspector } = app;
    // A live object first: the update moves it through Updating with its storage kept.
    await app.show("Console");
    await con.request("POST", "/counter/bob/increment");
    await expect(con.responseBody).toContainText('"value": 1');

    await app.show("Design");
    await design.classNode("Counter").click();
    await expect(design.file).toHaveText("src/index.ts");
    await expect(design.code()).toContainText("increment(by = 1)");
    const source = readFileSync(join(ui.projectDir, "src", "index.ts"), "utf8");
    await design.replaceCode(source.replace("increment(by = 1)", "increment(by = 10)"));
    await expect(design.save).toBeEnabled();
    await design.save.click();
    // A save that reloads the project shows the change first; a second save confirms it.
    await expect(design.diff()).toBeVisible();
    await design.page.getByRole("button", { name: "Save and reload" }).click();
    await expect(design.saveStatus).toContainText("Saved src/index.ts");
    await expect(design.updateStatus).toContainText("reloaded the project: 1 live object on the new code");
    expect(readFileSync(join(ui.projectDir, "src", "index.ts"), "utf8")).toContain("increment(by = 10)");
    await shot("design-saved");

    await app.show("Console");
    await con.request("POST", "/counter/bob/increment");
    await expect(con.responseBody).toContainText('"value": 11');

    await app.show("Inspector");
    await inspector.row("bob").click();
    await expect(inspector.edge("Active", "Updating")).toHaveAttribute("data-count", "1");
    await expect(inspector.edge("Updating", "Active")).toHaveAttribute("data-count", "1");
  });
});

test("a broken edit is refused and the previous code keeps serving", async ({ app, ui }) => {
  const { design, console: con } = app;
  await expect(design.code()).toContainText("class Counter");
  const source = readFileSync(join(ui.projectDir, "src", "index.ts"), "utf8");
  await design.replaceCode(`${source}\nexport const broken = ;\n`);
  await design.save.click();
  await design.page.getByRole("button", { name: "Save and reload" }).click();
  await expect(design.updateStatus).toContainText("refused");
  await app.show("Console");
  await con.request("POST", "/counter/carol/increment");
  await expect(con.responseBody).toContainText('"value": 1');
});

test("an object added from a template is written to the project, served and routed", async ({
  app,
  ui,
  shot,
}) => {
  const { design, console: con, inspector } = app;
  await design.addObject.click();
  await design.template("Analytics").click();
  await expect(design.className).toHaveValue("Analytics");
  await expect(design.binding).toHaveValue("ANALYTICS");
  await design.add("Analytics").click();
  await expect(design.addResult).toContainText("Added Analytics (env.ANALYTICS)");
  await expect(design.updateStatus).toContainText("reloaded the project");
  await expect(design.classNode("Analytics")).toBeVisible();
  await expect(design.canvas.locator('[data-edge-kind="route"]')).toContainText("/analytics/events");
  expect(readFileSync(join(ui.projectDir, "wrangler.jsonc"), "utf8")).toContain('"class_name": "Analytics"');
  // The entry open in the editor shows its new export, so a save cannot drop it.
  await design.code().click();
  await design.page.keyboard.press("ControlOrMeta+End");
  await expect(design.code()).toContainText('export { Analytics } from "./analytics";');
  await shot("design-add-object");

  // Its route (terrarium.json) sends the request straight to the new object.
  await app.show("Console");
  await con.request("POST", "/analytics/events", '{"topic":"signup"}');
  await expect(con.status).toHaveText(/^202/);
  await expect(con.responseBody).toContainText('"accepted": true');
  await app.show("Inspector");
  await expect(inspector.row("main")).toContainText("Analytics");
});
