import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, test } from "./fixtures.ts";

const AIDEVOS = resolve(import.meta.dirname, "..", "..", "resources", "samples", "aidevos");

test("saved requests: save, load back, rename, delete, kept on disk per project", async ({
  app,
  ui,
  shot,
}) => {
  const { console: con } = app;
  await app.show("Console");
  await con.request("POST", "/counter/demo/increment");
  await expect(con.status).toHaveText(/^200/);
  await con.saveAsName("Increment demo");
  await expect(con.savedRequest("Increment demo")).toBeVisible();

  await con.method.selectOption("GET");
  await con.path.fill("/counter/other");
  await con.saveAsName("Read other");
  await expect(con.saved).toHaveCount(2);

  // Loading a saved request puts it back in the composer.
  await con.openSaved("Increment demo").click();
  await expect(con.method).toHaveValue("POST");
  await expect(con.path).toHaveValue("/counter/demo/increment");

  await con.renameSaved("Increment demo").click();
  await con.newName.fill("Bump demo");
  await con.newName.press("Enter");
  await expect(con.savedRequest("Bump demo")).toBeVisible();
  await expect(con.savedRequest("Increment demo")).toHaveCount(0);
  await shot("console-saved");

  const onDisk = JSON.parse(readFileSync(join(ui.dataDir, "console-saved.json"), "utf8")) as {
    name: string;
  }[];
  expect(onDisk.map((s) => s.name)).toEqual(["Bump demo", "Read other"]);

  // A fresh page reads them back from the engine.
  await app.open(ui.url);
  await app.show("Console");
  await expect(con.saved).toHaveCount(2);
  await con.deleteSaved("Read other").click();
  await expect(con.saved).toHaveCount(1);
  await expect(con.savedRequest("Bump demo")).toBeVisible();
});

test.describe("an HTML response", () => {
  test.use({
    source: AIDEVOS,
    // A script in the page: it must not run, in the frame or in the app.
    edits: [
      {
        file: "src/ui-renderer.ts",
        find: `"<body>",`,
        replace: `"<body>", "<script>document.title = 'pwned'; try { parent.document.body.dataset.pwned = '1'; } catch {}</script>",`,
      },
    ],
  });

  test("is previewed only in a sandboxed frame, never in the app's DOM", async ({ app, page, shot }) => {
    const { console: con } = app;
    await app.show("Console");
    await con.request(
      "POST",
      "/auth/signup",
      JSON.stringify({ email: "ada@example.com", password: "correct horse battery", name: "Ada <i>L</i>" }),
    );
    await expect(con.status).toHaveText(/^201/);
    const { token } = JSON.parse((await con.responseBody.textContent()) ?? "{}") as { token: string };
    expect(token).toBeTruthy();

    await con.request("GET", `/app?token=${token}`);
    await expect(con.status).toHaveText(/^200/);
    // The source first, as text.
    await expect(con.responseBody).toContainText("<h1>Ada &#60;i&#62;L&#60;/i&#62;</h1>");
    await expect(con.htmlPreview).toHaveCount(0);

    await con.responseTab("Preview").click();
    await expect(con.htmlPreview).toBeVisible();
    await expect(con.htmlPreview).toHaveAttribute("sandbox", "");
    await expect(con.htmlPreview).toHaveAttribute("srcdoc", /<h1>Ada/);
    expect(await con.htmlPreview.getAttribute("src")).toBeNull();
    const frame = page.frameLocator('[data-testid="html-preview"]');
    await expect(frame.locator("h1")).toHaveText("Ada <i>L</i>");
    await expect(frame.locator("p.email")).toHaveText("ada@example.com");
    // The page's script did not run: its title is its own, and the app was not touched.
    expect(await frame.locator("title").textContent()).toBe("Ada <i>L</i> · AIDevOS");
    expect(await page.title()).not.toBe("pwned");
    await expect(page.locator("body")).not.toHaveAttribute("data-pwned", /./);
    // Nothing of the page is in the app's own document (locators do not enter frames).
    await expect(page.locator("p.email")).toHaveCount(0);
    await expect(page.locator("h1", { hasText: "Ada" })).toHaveCount(0);
    await expect(page.locator("script", { hasText: "pwned" })).toHaveCount(0);
    await shot("console-html-preview");

    await con.responseTab("Body").click();
    await expect(con.htmlPreview).toHaveCount(0);
  });
});
