import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, NOTES, test } from "./fixtures.ts";
import { DesignPage } from "./pages/design-page.ts";
import { TimeTravelPage } from "./pages/time-travel-page.ts";

test.describe("time travel of an object's storage, and class versions", () => {
  test.use({ source: NOTES });

  test("snapshots an object, diffs them, restores one, and rolls the class back from the Design view", async ({
    app,
    ui,
    project,
    shot,
    page,
  }) => {
    const { inspector } = app;
    const tt = new TimeTravelPage(page);
    const notes = async (action = "", query = ""): Promise<{ version: string; notes: unknown[] }> => {
      const res = await fetch(`${ui.routerUrl}/notes/ada/${action}${query}`, {
        method: action ? "POST" : "GET",
      });
      return (await res.json()) as { version: string; notes: unknown[] };
    };
    await notes("add", "?text=hello");

    await app.show("Inspector");
    await inspector.row("ada").click();
    await expect(tt.version).toHaveText(/^[0-9a-f]{8}$/);
    await inspector.panel("Snapshots").click();
    await tt.label.fill("one note");
    await tt.take.click();
    await expect(tt.snapshotRows).toHaveCount(1);
    await expect(tt.notice).toContainText("taken");

    await notes("add", "?text=world");
    await notes("edit", "?id=1&text=HELLO");
    await tt.snapshot("one note").getByRole("button", { name: "Diff with now" }).click();
    await expect(tt.diffTable("notes")).toContainText("+1 ~1 −0");
    await expect(tt.diffTable("notes")).toContainText("+ id: 2, text: world");
    await expect(tt.diffTable("notes")).toContainText("~ id: 1, text: hello → id: 1, text: HELLO");
    await expect(tt.diffKv).toContainText("~ count: 1 → 2");

    // Two snapshots ticked: the diff between them, older to newer.
    await tt.label.fill("two notes");
    await tt.take.click();
    await expect(tt.snapshotRows).toHaveCount(2);
    for (const row of await tt.snapshotRows.all()) await row.getByRole("checkbox").check();
    await tt.compare.click();
    await expect(tt.diffTable("notes")).toContainText("+1 ~1 −0");
    await shot("object-snapshots");

    // Restore the first: the object stops and wakes on the restored storage.
    tt.acceptNext("Restore this snapshot?");
    await tt.snapshot("one note").getByRole("button", { name: "Restore" }).click();
    await expect(tt.notice).toContainText("Restored to");
    await expect(inspector.currentState()).toHaveAttribute("data-state", "Hibernating");
    await expect(tt.snapshotRows.filter({ hasText: "before a restore" })).toHaveCount(1);
    expect((await notes()).notes).toEqual([{ id: 1, text: "hello" }]);
    await shot("object-snapshots-restored");

    // Class versions: a saved change is a new version; roll back to the first one.
    const design = new DesignPage(page);
    await app.show("Design");
    await design.classNode("Notes").click();
    await expect(tt.versionRows).toHaveCount(1);
    const file = join(project.dir, "src", "notes.ts");
    writeFileSync(file, readFileSync(file, "utf8").replace('"v1"', '"v2"'));
    await expect(tt.versionRows).toHaveCount(2);
    await expect.poll(async () => (await notes()).version).toBe("v2");
    const first = tt.versionRows.nth(1);
    await expect(first).toHaveAttribute("data-cause", "start");
    await first.getByRole("button", { name: "Source" }).click();
    await expect(page.getByTestId("version-source")).toContainText('version: "v1"');
    tt.acceptNext("Roll Notes back to");
    await first.getByRole("button", { name: "Roll back" }).click();
    await expect(tt.historyNotice).toContainText("Notes runs");
    await expect(tt.versionRows).toHaveCount(3);
    await expect(tt.versionRows.first()).toHaveAttribute("data-cause", "rollback");
    expect((await notes()).version).toBe("v1");
    expect(readFileSync(file, "utf8")).toContain('"v1"');
    await page.getByTestId("class-history").scrollIntoViewIfNeeded();
    await shot("design-history");

    // The object page says which version the live object runs.
    const hash = (await tt.versionRows.first().getAttribute("data-hash"))!;
    await app.show("Inspector");
    await expect(tt.version).toHaveText(hash.slice(0, 8));

    // Reset every object of the class from the objects table; each keeps a snapshot.
    await inspector.back.click();
    await page.getByLabel("Filter by class").selectOption("Notes");
    tt.acceptNext("Reset the state of every Notes object?");
    await page.getByRole("button", { name: "Reset Notes…" }).click();
    await expect(page.getByTestId("reset-status")).toHaveText("Reset 1 object; a snapshot of each was kept.");
    expect((await notes()).notes).toEqual([]);
    await shot("inspector-reset");
  });
});
