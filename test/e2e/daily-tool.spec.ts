import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, test } from "./fixtures.ts";

// Issue 19, "the UI as a daily tool": what a new user tripped over, each
// checked in the browser as they met it.

const AIDEVOS = resolve(import.meta.dirname, "..", "..", "resources", "samples", "aidevos");

/** The counter sample's entry, with a path that always fails (500) and one that stores a long note. */
const COUNTER_EDITS = [
  {
    file: "src/index.ts",
    find: `const [, first, name, action] = url.pathname.split("/");`,
    replace: `const [, first, name, action] = url.pathname.split("/");
    if (url.pathname === "/boom") return new Response("boom", { status: 500 });`,
  },
  {
    file: "src/index.ts",
    find: `    return Response.json({ value: this.get() });`,
    replace: `    await this.ctx.storage.put("note", "the first line of a long note\\n" + "x".repeat(150));
    return Response.json({ value: this.get() });`,
  },
];

async function post(url: string): Promise<void> {
  const res = await fetch(url, { method: "POST" });
  expect(res.status).toBe(200);
}

test.describe("the counter sample, used for a while", () => {
  test.use({
    // NOTE: an array of two objects given to test.use reads as [value, options]: hence the tuple.
    edits: [COUNTER_EDITS, { scope: "test" }],
    // Objects hibernate only when told to, so the counts below are the test's own.
    uiArgs: ["--hibernate-after", "600000"],
  });

  test("an object's timeline shows each transition once after Hibernate now", async ({ app, ui }) => {
    const { inspector } = app;
    await post(`${ui.routerUrl}/counter/dup/increment`);
    await app.show("Inspector");
    await inspector.row("dup").click();
    await expect(inspector.transitions.first()).toBeVisible();
    await inspector.hibernate.click();
    await expect(inspector.currentState()).toHaveAttribute("data-state", "Hibernating");
    // Waking it streams more transitions: once they are drawn, the stream has
    // caught up past the hibernation the page also fetched.
    await post(`${ui.routerUrl}/counter/dup/increment`);
    await expect(inspector.transitions.filter({ hasText: "Hibernating" }).first()).toBeVisible();
    await expect(inspector.currentState()).not.toHaveAttribute("data-state", "Hibernating");
    const seqs = await inspector.transitionSeqs();
    expect(new Set(seqs).size).toBe(seqs.length);
    // The diagram counts each once: one hibernation, one wake (it cannot hibernate again: see uiArgs).
    await expect(inspector.edge("Idle", "Hibernating")).toHaveAttribute("data-count", "1");
    await expect(inspector.edge("Hibernating", "Initializing")).toHaveAttribute("data-count", "1");
  });

  test("Copy as curl follows the method and path as they change", async ({ app, ui }) => {
    const con = app.console;
    await app.show("Console");
    await con.path.fill("/counter/a/increment");
    await con.method.selectOption("POST");
    await con.copyCurl.click();
    await expect(con.curl).toHaveValue(`curl -i -X POST '${ui.routerUrl}/counter/a/increment'`);
    await con.method.selectOption("GET");
    await con.path.fill("/counter/b");
    await expect(con.curl).toHaveValue(`curl -i '${ui.routerUrl}/counter/b'`);
  });

  test("starts the console on the project's own GET /, and says '1 object'", async ({ app, ui }) => {
    const { console: con, inspector } = app;
    await app.show("Console");
    await expect(con.method).toHaveValue("GET");
    await expect(con.path).toHaveValue("/");
    await con.send.click();
    await expect(con.status).toHaveText(/^200/);
    await post(`${ui.routerUrl}/counter/only/increment`);
    await app.show("Inspector");
    await expect(inspector.count).toHaveText("1 of 1 object");
  });

  test("shows a stored string as it is, not as a concatenation", async ({ app, ui }) => {
    const { inspector } = app;
    const res = await fetch(`${ui.routerUrl}/counter/noted/fetch`);
    expect(res.status).toBe(200);
    await app.show("Inspector");
    await inspector.row("noted").click();
    await inspector.panel("Storage").click();
    const value = inspector.kv.getByRole("row").filter({ hasText: "note" }).getByRole("cell").nth(1);
    await expect(value).toContainText("the first line of a long note\\nxxxx");
    await expect(value).not.toContainText("' +");
  });
});

test.describe("many objects", () => {
  test.use({ seedObjects: 15 });

  test("filters that match nothing say so, with the objects there are", async ({ app }) => {
    const { inspector } = app;
    await app.show("Inspector");
    await expect(inspector.rows.first()).toBeVisible();
    await inspector.search.fill("no-such-object");
    await expect(inspector.noMatch).toContainText("No object matches these filters (15 objects in all)");
    await expect(inspector.page.getByText("No objects yet")).toHaveCount(0);
    await inspector.noMatch.getByRole("button", { name: "Clear the filters" }).click();
    await expect(inspector.count).toHaveText("15 of 15 objects");
  });
});

test.describe("the AIDevOS sample", () => {
  test.use({ source: AIDEVOS });

  test("lists subscription patterns apart from topics, and adds a class keeping one-line entries", async ({
    app,
    ui,
  }) => {
    const { inspector, design } = app;
    await app.show("Inspector");
    await inspector.section("Event bus").click();
    await expect(inspector.topicPatterns).toContainText("record.*");
    await expect(inspector.topicPatterns).toContainText("UI({data.userId}).invalidate");
    await expect(inspector.topicsTable).toContainText("user.created");
    await expect(inspector.topicsTable).not.toContainText("record.*");

    await app.show("Design");
    const before = readFileSync(join(ui.projectDir, "wrangler.jsonc"), "utf8");
    await design.addObject.click();
    await design.template("Custom").first().click();
    await design.className.fill("Ledger");
    await design.binding.fill("LEDGER");
    await design.add("Custom").click();
    await expect(design.addResult).toContainText("Added Ledger (env.LEDGER)");
    const after = readFileSync(join(ui.projectDir, "wrangler.jsonc"), "utf8");
    expect(after).toContain(`      { "name": "CUSTOM", "class_name": "Custom" },\n`);
    expect(after).toContain(`      { "name": "LEDGER", "class_name": "Ledger" },\n`);
    // Nothing else moved: the old text is all there, in order, with the new lines added.
    const kept = before.split("\n").filter((l) => after.includes(l));
    expect(kept).toEqual(before.split("\n"));
    const terrarium = readFileSync(join(ui.projectDir, "terrarium.json"), "utf8");
    expect(terrarium).toContain(`"Custom": { "kind": "Custom", "notes": "The template to copy." },`);
  });

  test("at 1280x720 the Design canvas shows the external systems whole", async ({ app, page, shot }) => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await app.show("Design");
    const frame = (await app.design.canvasFrame.boundingBox())!;
    for (const title of ["Database · D1", "Storage · R2", "Third-party APIs", "Variables"]) {
      const box = (await app.design.externalNode(title).boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(frame.x + frame.width);
    }
    await shot("design-aidevos-1280x720");
    await page.setViewportSize({ width: 1440, height: 900 });
    await shot("design-aidevos-1440x900");
  });

  test("keeps the case of a file path in a heading", async ({ app }) => {
    await app.show("Export");
    await app.export.file("src/index.ts").click();
    const heading = app.page.getByRole("heading", { name: /Preview/ });
    await expect(heading).toContainText("src/index.ts");
    // innerText is what is drawn: text-transform applied.
    expect(await heading.innerText()).toContain("src/index.ts");
  });

  test("opens the console on GET /, which the sample answers", async ({ app }) => {
    const con = app.console;
    await app.show("Console");
    await expect(con.path).toHaveValue("/");
    await con.send.click();
    await expect(con.status).toHaveText(/^200/);
  });
});

const SHARDED = resolve(import.meta.dirname, "..", "fixtures", "sharded");

/** A steady run on the sharded tally: the saved profile the user starts from. */
const STEADY = {
  description: "a steady trickle",
  rate: 10,
  duration: "2s",
  keys: "uniform:5",
  requests: [{ path: "/tally/t?wait=5", headers: { "x-user": "u{key}" } }],
};

/** What the user pastes over it: half of it on a path the entry does not serve (404). */
const HALF_FAILING = {
  description: "half the requests fail",
  rate: 20,
  duration: "2s",
  keys: "uniform:5",
  requests: [
    { weight: 1, path: "/tally/t?wait=5", headers: { "x-user": "u{key}" } },
    { weight: 1, path: "/nope" },
  ],
};

/** A new object (named by a UUID) per request. */
const NEW_OBJECTS = {
  description: "a new object per request",
  rate: 10,
  duration: "2s",
  requests: [{ path: "/tally/{uuid}", headers: { "x-user": "u{seq}" } }],
};

const withProfiles = (profiles: Record<string, unknown>) => ({
  file: "terrarium.json",
  find: `"routes": [`,
  replace: `"loadProfiles": ${JSON.stringify(profiles)},\n  "routes": [`,
});

test.describe("load runs", () => {
  test.use({ source: SHARDED, edits: [withProfiles({ steady: STEADY, "new-objects": NEW_OBJECTS })] });

  test("a run is named after what ran, its header is the whole run's, and errors with no threshold are no pass", async ({
    app,
    shot,
  }) => {
    const { load } = app;
    await app.show("Console");
    await app.console.section("Load").click();
    await expect(load.profile).toHaveValue("steady");
    await load.startProfile(HALF_FAILING);
    await expect(load.summary).toBeVisible({ timeout: 30_000 });
    await expect(load.runTitle).toContainText("steady (edited)");
    await expect(load.runs.first()).toContainText("steady (edited)");
    // The header reads the summary's throughput, not the last second's.
    const throughput = (await load.summaryRow("Throughput").getByRole("cell").innerText()).trim();
    await expect(load.runNow).toContainText(`${throughput} ·`);
    await expect(load.runNow).toContainText("whole run");
    // About half failed, and no threshold was set: a warning, not a green check.
    await expect(load.verdict(0)).toHaveText("!");
    await expect(load.verdict(0)).toHaveAttribute("title", /errors, and no threshold/);
    // The sharding note says what the scaler saw: its window, its figure, the target.
    await expect(load.scalerNote).toContainText(
      /Tally t: the scaler's last look saw a mean of [\d.]+ requests in flight per shard over [\d.]+ s \(\d+ shards?\), against the policy's target of 2/,
    );
    await shot("load-edited-run");
  });

  for (const [w, h] of [
    [1440, 900],
    [1280, 720],
  ] as const) {
    test(`at ${w}x${h}, the hottest objects fit with UUID names, the buttons keep their labels on one line, the canvas shows every system`, async ({
      app,
      page,
      shot,
    }) => {
      await page.setViewportSize({ width: w, height: h });
      const { load, design } = app;
      await app.show("Design");
      await expect(design.canvas).toBeVisible();
      const canvasBox = (await design.canvas.boundingBox())!;
      const frame = (await design.canvasFrame.boundingBox())!;
      expect(canvasBox.x + canvasBox.width).toBeLessThanOrEqual(frame.x + frame.width + 1);
      await shot(`design-${w}x${h}`);

      await app.show("Console");
      await app.console.section("Load").click();
      await load.profile.selectOption("new-objects");
      await load.json.fill(JSON.stringify({ ...NEW_OBJECTS, description: "edited" }, null, 2));
      const save = (await load.save.boundingBox())!;
      const start = (await load.start.boundingBox())!;
      expect(save.height).toBe(start.height);
      await load.start.click();
      await expect(load.summary).toBeVisible({ timeout: 30_000 });
      await expect(load.hotTable).toBeVisible();
      await load.hotTable.scrollIntoViewIfNeeded();
      await shot(`load-hot-${w}x${h}`);
      // Every column is drawn: the table is no wider than the space it has.
      const widths = await load.hotTable.evaluate((t) => {
        const table = t as unknown as { scrollWidth: number; parentElement: { clientWidth: number } };
        return { table: table.scrollWidth, room: table.parentElement.clientWidth };
      });
      expect(widths.table).toBeLessThanOrEqual(widths.room);
    });
  }
});

test.describe("a run that hangs", () => {
  test.use({
    source: SHARDED,
    edits: [
      [
        withProfiles({ "new-objects": { ...NEW_OBJECTS, duration: "3s" } }),
        {
          file: "src/index.ts",
          find: "export class Tally extends DurableObject {",
          replace: `export class Tally extends DurableObject {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(() => new Promise((r) => setTimeout(r, 1500)));
  }
`,
        },
      ],
      { scope: "test" },
    ],
  });

  test("says what held requests back, live and in the summary", async ({ app, shot }) => {
    const { load } = app;
    await app.show("Console");
    await app.console.section("Load").click();
    await expect(load.profile).toHaveValue("new-objects");
    await load.start.click();
    await expect(load.stop).toBeVisible();
    await expect(load.heldBack).toContainText("What is holding requests back");
    await shot("load-held-live");
    await expect(load.summary).toBeVisible({ timeout: 30_000 });
    await expect(load.heldBack).toContainText("What held requests back");
    await expect(load.heldBack).toContainText(/the project|worker thread|Initializing/);
    await shot("load-held-summary");
  });
});
