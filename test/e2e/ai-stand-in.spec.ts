import { join, resolve } from "node:path";
import { expect, test } from "./fixtures.ts";

const AI = join(resolve(import.meta.dirname, "..", ".."), "test", "fixtures", "ai");

test.describe("a project with Workers AI and the local stand-in turned on", () => {
  test.use({
    source: AI,
    edits: [{ file: "terrarium.json", find: '"standIn": false', replace: '"standIn": true' }],
  });

  test("the Design view says plainly that env.AI is a stand-in, and a chat answers offline", async ({
    app,
    shot,
  }) => {
    const { console: con, design } = app;
    const box = design.canvas.getByTestId("external-AI · stand-in");
    await expect(box).toContainText("AI · not a model");
    await expect(box.locator("title")).toHaveText(
      "env.AI: Workers AI: a local stand-in, not a model (deterministic text and embeddings)",
    );
    await shot("design-ai-stand-in");
    await app.show("Console");
    await con.request("GET", "/chat?q=What%20is%20a%20Durable%20Object%3F");
    await expect(con.responseBody).toContainText("[stand-in]");
    await expect(con.responseBody).toContainText("total_tokens");
  });
});
