import { join, resolve } from "node:path";
import { expect, test } from "./fixtures.ts";

const KV = join(resolve(import.meta.dirname, "..", ".."), "test", "fixtures", "kv");

test.describe("a project with a KV namespace", () => {
  test.use({ source: KV });

  test("the KV browser lists keys by prefix a page at a time, shows values, and edits, adds and deletes keys", async ({
    app,
    ui,
    shot,
  }) => {
    const page = app.page;
    const put = async (key: string, value: string) =>
      expect((await fetch(`${ui.routerUrl}/put?key=${key}&value=${value}`, { method: "POST" })).status).toBe(
        200,
      );
    // 104 keys: more than one page of 100.
    for (let i = 0; i < 103; i++) await put(`session:${String(i).padStart(3, "0")}`, `s${i}`);
    await put("user:1", "ada");

    await app.show("Inspector");
    await app.inspector.section("KV").click();
    const kv = page.getByTestId("kv-page");
    await expect(kv.getByRole("heading")).toContainText("env.SESSIONS");
    await expect(page.getByTestId("kv-size")).toContainText("104 keys");
    const keys = page.getByTestId("kv-key");
    await expect(keys).toHaveCount(100);
    await page.getByRole("button", { name: "Next ›" }).click();
    await expect(keys).toHaveCount(4);
    await expect(keys.last()).toHaveAttribute("data-key", "user:1");
    await page.getByRole("button", { name: "‹ Previous" }).click();
    await expect(keys).toHaveCount(100);

    await page.getByLabel("Key prefix").fill("user:");
    await expect(keys).toHaveCount(1);
    await keys.first().click();
    const value = page.getByTestId("kv-value");
    await expect(page.getByTestId("kv-text")).toHaveText("ada");
    await expect(page.getByTestId("kv-metadata")).toHaveText('{"by":"fixture"}');
    await expect(page.getByTestId("kv-expiry")).toHaveText("never");

    // Edit: a JSON value, new metadata, a TTL; too short a TTL first, refused with workerd's message.
    await value.getByRole("button", { name: "Edit" }).click();
    const editor = page.getByTestId("kv-editor");
    await editor.getByLabel("Value").fill('{"name":"Ada","plan":"pro"}');
    await editor.getByLabel("Metadata").fill('{"by":"inspector"}');
    await editor.getByLabel("Expiry").selectOption("ttl");
    await editor.getByLabel("TTL seconds").fill("30");
    await editor.getByRole("button", { name: "Save" }).click();
    await expect(page.getByTestId("kv-error")).toHaveText(
      "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60.",
    );
    await editor.getByLabel("TTL seconds").fill("3600");
    await editor.getByRole("button", { name: "Save" }).click();
    await expect(editor).toHaveCount(0);
    await expect(page.getByTestId("kv-kind")).toContainText("JSON");
    await expect(page.getByTestId("kv-text")).toContainText('"plan": "pro"');
    await expect(page.getByTestId("kv-expiry")).toContainText("(in 60 min)");
    // The running Worker reads what the Inspector wrote.
    const got = (await (await fetch(`${ui.routerUrl}/get?key=user:1`)).json()) as unknown;
    expect(got).toEqual({
      value: '{"name":"Ada","plan":"pro"}',
      metadata: { by: "inspector" },
      cacheStatus: null,
    });
    await shot("inspector-kv");

    // A new key with bytes (base64): shown as hex.
    await page.getByRole("button", { name: "+ New key" }).click();
    await editor.getByLabel("Key name").fill("user:avatar");
    await editor.getByLabel("Value").fill("iVBORw0KGgo=");
    await editor.getByLabel("Encoding").selectOption("base64");
    await editor.getByRole("button", { name: "Save" }).click();
    await expect(page.getByTestId("kv-kind")).toContainText("binary, 8 B");
    await expect(page.getByTestId("kv-hex")).toHaveText("89 50 4e 47 0d 0a 1a 0a");
    await expect(keys).toHaveCount(2);
    await shot("inspector-kv-binary");

    // Delete asks once more, then the key is gone for the Worker too.
    await keys.first().click();
    await expect(page.getByTestId("kv-text")).toContainText("Ada");
    await value.getByRole("button", { name: "Delete", exact: true }).click();
    await value.getByRole("button", { name: "Delete user:1?" }).click();
    await expect(keys).toHaveCount(1);
    const after = (await (await fetch(`${ui.routerUrl}/get?key=user:1`)).json()) as { value: unknown };
    expect(after.value).toBeNull();
  });
});
