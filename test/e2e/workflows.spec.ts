import { resolve } from "node:path";
import { expect, test } from "./fixtures.ts";
import { WorkflowsPage } from "./pages/workflows-page.ts";

const WORKFLOWS = resolve(import.meta.dirname, "..", "fixtures", "workflows");

test.describe("Workflows in the Inspector", () => {
  test.use({ source: WORKFLOWS });

  test("shows instances with their status and a step timeline with retried attempts, and drives one to completion", async ({
    app,
    ui,
    shot,
  }) => {
    // One instance started by the project's own code, with a step that fails twice first.
    const res = await fetch(`${ui.routerUrl}/start?id=order-1`, {
      method: "POST",
      body: JSON.stringify({ qty: 2, failures: 2, sleep: "1 second" }),
    });
    expect(res.status).toBe(200);

    await app.show("Inspector");
    await app.page.getByRole("button", { name: "Workflows", exact: true }).click();
    const wf = new WorkflowsPage(app.page);
    await expect(wf.root).toContainText("env.ORDERS");
    await wf.instance("order-1").getByRole("button").click();

    // Waiting for its approval: four steps, the second one with three attempts.
    await expect(wf.step("approval")).toContainText('waits for event "approve"');
    await expect(wf.steps).toHaveCount(4);
    await expect(wf.step("reserve stock")).toContainText("3 attempts");
    await expect(wf.step("reserve stock").getByTestId("workflow-attempt")).toHaveCount(3);
    await expect(wf.step("reserve stock")).toContainText("Error: warehouse busy (attempt 1)");
    await expect(wf.step("reserve stock")).toContainText("retried after 40 ms");
    await expect(wf.step("reserve stock")).toContainText('{"reservedOn":3}');
    await expect(wf.step("charge")).toContainText('{"amount":20}');
    await expect(wf.instance("order-1")).toContainText("running");
    await shot("inspector-workflow-waiting");

    // Pause, resume, then the event from the page.
    await wf.button("Pause").click();
    await expect(wf.instance("order-1")).toContainText("paused");
    await wf.button("Resume").click();
    await expect(wf.instance("order-1")).toContainText("running");
    await wf.sendEvent("approve", '{"by":"the inspector"}');
    await expect(wf.instance("order-1")).toContainText("complete");
    await expect(wf.output).toContainText('"approvedBy":"the inspector"');
    await expect(wf.step("ship")).toContainText('"shipped"');

    // An instance created from the page; bad params are refused without losing the form.
    await app.page.getByLabel("Instance params").fill("{not json");
    await wf.button("Create instance").click();
    await expect(wf.root).toContainText("not JSON");
    await wf.create('{"qty":1}', "from-ui");
    await expect(wf.instance("from-ui")).toBeVisible();
    await expect(wf.counts).toContainText("2 instances");
    await wf.button("Terminate").click();
    await expect(wf.instance("from-ui")).toContainText("terminated");
    await expect(wf.instancePanel).toContainText("the instance was terminated here");
    await shot("inspector-workflows");
  });
});

const SHOP = resolve(import.meta.dirname, "..", "real-world", "projects", "shop-orders");

test.describe("Workflows of another Worker (-c)", () => {
  test.use({
    source: SHOP,
    uiArgs: ["-c", "{project}/wrangler.jsonc", "-c", "{project}/fulfilment/wrangler.jsonc"],
  });

  test("lists the fulfilment Worker's instances, named with their Worker, and acts on them", async ({
    app,
    ui,
    shot,
  }) => {
    const res = await fetch(`${ui.routerUrl}/orders/a1`, {
      method: "POST",
      body: JSON.stringify({ item: "lamp", qty: 2 }),
    });
    expect(res.status).toBe(201);

    await app.show("Inspector");
    await app.page.getByRole("button", { name: "Workflows", exact: true }).click();
    const wf = new WorkflowsPage(app.page);
    await expect(wf.root.getByTestId("workflow-worker")).toHaveText("· Worker fulfilment");
    await expect(wf.root).toContainText("env.SHIPPING");
    // The shop's queue hands the order to fulfilment, whose consumer creates the instance.
    await wf.instance("a1").getByRole("button").click();
    await expect(wf.instance("a1")).toContainText("running");
    await expect(wf.instancePanel).toContainText('waits for event "paid"');
    await shot("inspector-workflow-other-worker");

    // The page's actions reach that Worker's Workflows: the payment event ships the order.
    await wf.sendEvent("paid", '{"amount":30}');
    await expect(wf.instance("a1")).toContainText("complete");
  });
});
