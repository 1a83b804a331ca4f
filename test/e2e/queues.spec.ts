import { join, resolve } from "node:path";
import { expect, test } from "./fixtures.ts";

const QUEUES = join(resolve(import.meta.dirname, "..", ".."), "test", "fixtures", "queues");

test.describe("a project with a queue, its consumer and a dead-letter queue", () => {
  test.use({ source: QUEUES });

  test("the Inspector shows each queue's messages and every delivered batch with its outcome", async ({
    app,
    shot,
  }) => {
    const { console: con, inspector, design } = app;
    // The Design view draws the producer bindings with the other external systems.
    await expect(design.canvas).toContainText("Queues");
    await expect(design.canvas).toContainText("JOBS");
    await shot("design-queues");
    await app.show("Console");
    await con.request("POST", "/send", '{"name":"welcome-email"}');
    await expect(con.responseBody).toContainText('"sent": "welcome-email"');
    await con.request("POST", "/send", '{"name":"resize-avatar","action":"throw"}');
    await expect(con.responseBody).toContainText('"sent": "resize-avatar"');
    // delivery_delay 1 s: waits as "delayed" before its batch.
    await con.request("POST", "/send?via=later", '{"name":"weekly-digest","action":"retry"}');
    await expect(con.responseBody).toContainText('"sent": "weekly-digest"');

    await app.show("Inspector");
    await inspector.section("Queues").click();
    const jobs = inspector.queue("jobs");
    await expect(jobs).toContainText("env.JOBS, env.LATER");
    await expect(jobs).toContainText("batches of 10 · 0.1 s timeout · 1 retry · dead letters to jobs-dlq");
    // Both failing messages end in the dead-letter queue, each after 2 attempts.
    await expect(jobs.locator("td").nth(9)).toHaveText("2");
    await expect(inspector.queue("jobs-dlq").locator("td").nth(7)).toHaveText("2");
    await expect(inspector.queueBatches.locator('tr[data-outcome="exception"]').first()).toContainText(
      "Error: the consumer failed",
    );
    await expect(inspector.queueBatches.locator('tr[data-outcome="ok"]').first()).toBeVisible();
    await shot("inspector-queues");

    await inspector.queue("jobs-dlq").click();
    await expect(
      inspector.page.getByRole("heading", { name: "Batches delivered from jobs-dlq" }),
    ).toBeVisible();
    await expect(inspector.queueBatches.locator('tr[data-outcome="ok"]').first()).toBeVisible();
  });
});

const QUEUES_WORKERS = join(
  resolve(import.meta.dirname, "..", ".."),
  "test",
  "fidelity",
  "projects",
  "queues-workers",
);

test.describe("queues consumed by two Workers (-c), one with max_concurrency", () => {
  test.use({
    source: QUEUES_WORKERS,
    uiArgs: ["-c", "{project}/wrangler.jsonc", "-c", "{project}/back/wrangler.jsonc"],
  });

  test("the Queues page names the Worker consuming each queue and its concurrency", async ({
    app,
    ui,
    shot,
  }) => {
    const r = await fetch(`${ui.routerUrl}/send`);
    expect(await r.json()).toEqual({ sent: 3 });
    await app.show("Inspector");
    await app.inspector.section("Queues").click();
    const tasks = app.inspector.queue("tasks");
    const results = app.inspector.queue("results");
    await expect(tasks.getByTestId("queue-consumer-worker")).toHaveText("fidelity-queues-back");
    await expect(tasks).toContainText("env.TASKS");
    await expect(tasks).toContainText("one batch at a time");
    await expect(results.getByTestId("queue-consumer-worker")).toHaveText("fidelity-queues-front");
    await expect(results).toContainText("env.RESULTS (fidelity-queues-back)");
    await expect(results).toContainText("up to 2 batches at once");
    // Three results acked by the front Worker (one after a retry).
    await expect(results.locator("td").nth(7)).toHaveText("3");
    await shot("inspector-queues-workers");
  });
});
