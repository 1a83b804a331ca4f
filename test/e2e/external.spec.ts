import { resolve } from "node:path";
import { expect, test } from "./fixtures.ts";

const AIDEVOS = resolve(import.meta.dirname, "..", "..", "resources", "samples", "aidevos");

test.describe("the AIDevOS sample's external systems in the Inspector", () => {
  test.use({ source: AIDEVOS });

  test("after requests that write to them, the database, bucket and mock-call pages show what was written", async ({
    app,
    ui,
    shot,
  }) => {
    const call = async (
      method: string,
      path: string,
      body?: string,
      headers: Record<string, string> = {},
    ) => {
      const res = await fetch(ui.routerUrl + path, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      return { status: res.status, json: (await res.json()) as Record<string, string> };
    };
    const json = { "content-type": "application/json" };
    const signup = await call(
      "POST",
      "/auth/signup",
      JSON.stringify({ email: "ada@example.com", password: "correct horse battery", name: "Ada" }),
      json,
    );
    expect(signup.status).toBe(201);
    const { token, userId } = signup.json as { token: string; userId: string };
    const auth = { authorization: `Bearer ${token}` };
    const key = await call("POST", "/keys", JSON.stringify({ label: "ci" }), { ...json, ...auth });
    expect(key.status).toBe(201);
    const file = await call("PUT", "/files/hello.txt", "hello, <b>storage</b> service", {
      ...auth,
      "content-type": "text/plain",
    });
    expect(file.status).toBeLessThan(300);
    for (let i = 0; i < 3; i++)
      await call("GET", "/api/v1/quote", undefined, { "x-api-key": key.json["key"]! });

    const { inspector } = app;
    await app.show("Inspector");

    // D1: the table the gateway wrote, its rows, and read-only SQL.
    await inspector.section("Database").click();
    await expect(inspector.databaseTable("api_keys")).toContainText("1");
    await inspector.databaseTable("api_keys").getByRole("button").click();
    const result = app.page.getByTestId("database-result");
    await expect(result).toContainText("1 row");
    await expect(result).toContainText("ci");
    await app.page.getByLabel("Database SQL").fill("DELETE FROM api_keys");
    await app.page.getByRole("button", { name: /^Run/ }).click();
    await expect(app.page.getByTestId("database-error")).toContainText("read-only");
    await app.page.getByLabel("Database SQL").fill("SELECT label, user_id FROM api_keys");
    await app.page.getByRole("button", { name: /^Run/ }).click();
    await expect(result).toContainText(userId);
    await shot("inspector-database");

    // R2: the uploaded file with its metadata; its value as text, not markup.
    await inspector.section("Bucket").click();
    const fileKey = `users/${userId}/hello.txt`;
    await expect(inspector.bucketKey(fileKey)).toContainText("29 B");
    await expect(inspector.bucketKey(fileKey)).toContainText("contentType: text/plain");
    await expect(inspector.bucketKey(fileKey)).toContainText(`owner: ${userId}`);
    await app.page.getByLabel("Key prefix").fill("nobody/");
    await expect(app.page.getByText("No keys under nobody/.")).toBeVisible();
    await app.page.getByLabel("Key prefix").fill("users/");
    await inspector.bucketKey(fileKey).getByRole("button").click();
    const value = app.page.getByTestId("bucket-value");
    await expect(value.locator("pre")).toHaveText("hello, <b>storage</b> service");
    await expect(value.locator("b")).toHaveCount(0);
    await shot("inspector-bucket");

    // Mock endpoints: the gateway's calls to the third-party API, live.
    await inspector.section("Mock calls").click();
    await expect(app.page.getByTestId("mock-endpoint")).toContainText("https://api.example.com/v1/");
    await expect(app.page.getByTestId("mock-call")).toHaveCount(3);
    await expect(app.page.getByTestId("mock-call").first()).toContainText("https://api.example.com/v1/quote");
    await expect(app.page.getByTestId("mock-call").first()).toContainText("ApiGateway");
    await call("GET", "/api/v1/quote", undefined, { "x-api-key": key.json["key"]! });
    await expect(app.page.getByTestId("mock-call")).toHaveCount(4);
    await shot("inspector-mock-calls");
  });
});
