import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "./fixtures.ts";

// The Design view's code editor (Monaco) on the counter sample: TypeScript
// with the Workers types and the Env of wrangler.jsonc, a refused build's
// error at its line, every file reachable, a diff before a save that reloads.

const METHOD = "  increment(by = 1): number {\n";

/** The sample's src/index.ts cut after `increment(by = 1): number {`, where the tests type. */
function sourceAroundIncrement(projectDir: string): { before: string; after: string } {
  const text = readFileSync(join(projectDir, "src", "index.ts"), "utf8");
  const at = text.indexOf(METHOD) + METHOD.length;
  return { before: text.slice(0, at), after: text.slice(at) };
}

test("TypeScript knows the Workers API: completions after ctx.storage., a type error underlined as typed", async ({
  app,
  ui,
  shot,
}) => {
  const { design } = app;
  // Monaco, its workers, styles and font load under the page's CSP, from the app's own origin.
  const refused: string[] = [];
  design.page.on("console", (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) refused.push(m.text());
  });
  const origins = new Set<string>();
  design.page.on("request", (r) => origins.add(new URL(r.url()).origin));
  await design.page.reload();
  await expect(design.editor()).toBeVisible();
  await expect(design.editor()).toHaveAttribute("data-types", "loaded");
  await expect(design.code()).toContainText("export class Counter extends DurableObject<Env>");

  const { before, after } = sourceAroundIncrement(ui.projectDir);
  await design.replaceCodeAround(`${before}    `, `\n${after}`);
  await design.page.keyboard.type("this.ctx.storage.");
  const list = design.suggestions();
  await expect(list).toBeVisible();
  // DurableObjectStorage's methods, from the Workers types.
  await expect(list.getByRole("option", { name: /^get\b/ })).toBeVisible();
  await expect(list.getByRole("option", { name: /^setAlarm\b/ })).toBeVisible();
  await shot("editor-completions");
  await design.page.keyboard.type("sql.");
  await expect(list.getByRole("option", { name: /^exec\b/ })).toBeVisible();
  await design.page.keyboard.press("Escape");

  // The Env of wrangler.jsonc: GREETING is the literal string of its var.
  await design.replaceCodeAround(`${before}    ({} as Cloudflare.Env).GREETING.toFixed();\n`, after);
  const line = before.split("\n").length;
  await expect(design.editor().locator(".squiggly-error").first()).toBeVisible();
  await design.code().click();
  await design.page.keyboard.press("ControlOrMeta+Home");
  const problem = await design.problem("toFixed");
  await expect(problem.message).toContainText(
    `Property 'toFixed' does not exist on type '"hello from Terrarium"'`,
  );
  await expect(problem.line).toHaveText(String(line));
  await shot("editor-type-error");

  expect(refused).toEqual([]);
  expect([...origins].filter((o) => o !== new URL(ui.url).origin && !o.startsWith("blob:"))).toEqual([]);

  // Unsaved: the tab and the tree say so.
  await expect(design.tab("src/index.ts")).toContainText("●");
  await expect(design.treeFile("src/index.ts")).toContainText("●");
});

test("a refused save: the diff first, then esbuild's error marked at its line", async ({ app, ui, shot }) => {
  const { design } = app;
  await expect(design.editor()).toBeVisible();
  const { before, after } = sourceAroundIncrement(ui.projectDir);
  await design.replaceCodeAround(`${before}    const broken = ;\n`, after);
  const line = before.split("\n").length;

  // Saving a source that reloads the project shows the change against the saved file first.
  await design.page.keyboard.press("ControlOrMeta+S");
  await expect(design.diff()).toBeVisible();
  await expect(design.diff().locator(".modified-in-monaco-diff-editor .view-lines")).toContainText(
    "const broken = ;",
  );
  await expect(readFileSync(join(ui.projectDir, "src", "index.ts"), "utf8")).not.toContain("broken");
  await shot("editor-diff");
  await design.page.getByRole("button", { name: "Save and reload" }).click();

  await expect(design.updateStatus).toContainText("refused");
  await expect(design.updateStatus).toContainText(`src/index.ts:${line}:`);
  await expect(design.editor()).toBeVisible();
  await design.code().click();
  await design.page.keyboard.press("ControlOrMeta+Home");
  const problem = await design.problem("esbuild");
  await expect(problem.message).toContainText('Unexpected ";"');
  await expect(problem.line).toHaveText(String(line));
  await shot("editor-build-error");
  expect(readFileSync(join(ui.projectDir, "src", "index.ts"), "utf8")).toContain("const broken = ;");
});

test("every file is reachable: the tree opens a config file in a tab, edits keep to their tab", async ({
  app,
  ui,
  shot,
}) => {
  const { design } = app;
  await expect(design.editor()).toBeVisible();
  await design.treeFile("wrangler.jsonc").click();
  await expect(design.tab("wrangler.jsonc")).toHaveAttribute("aria-selected", "true");
  await expect(design.file).toHaveText("wrangler.jsonc");
  await expect(design.code()).toContainText('"compatibility_date": "2025-04-01"');

  // requests.json, not a class file: edited, saved without a diff (it does not reload the project).
  await design.treeFile("requests.json").click();
  const text = readFileSync(join(ui.projectDir, "requests.json"), "utf8");
  await expect(design.tab("requests.json")).toHaveAttribute("aria-selected", "true");
  await design.replaceCode(`${text.trimEnd()}\n\n`);
  await expect(design.tab("requests.json")).toContainText("●");
  await design.save.click();
  await expect(design.saveStatus).toContainText("Saved requests.json");
  await expect(design.tab("requests.json")).not.toContainText("●");
  expect(readFileSync(join(ui.projectDir, "requests.json"), "utf8")).toBe(`${text.trimEnd()}\n\n`);

  // Back to the class file: its tab kept its text.
  await design.tab("src/index.ts").click();
  await expect(design.code()).toContainText("export class Counter");
  await shot("editor-tree");
});

test("a var added to wrangler.jsonc in the editor is typed in the code once the project reloads", async ({
  app,
  ui,
}) => {
  const { design } = app;
  await expect(design.editor()).toHaveAttribute("data-types", "loaded");
  await design.treeFile("wrangler.jsonc").click();
  await expect(design.code()).toContainText('"compatibility_date"');
  const config = readFileSync(join(ui.projectDir, "wrangler.jsonc"), "utf8");
  await design.replaceCode(config.replace('"vars": {', '"vars": { "MOOD": "calm",'));
  await design.page.keyboard.press("ControlOrMeta+S");
  await expect(design.diff()).toBeVisible();
  await design.page.keyboard.press("ControlOrMeta+S");
  await expect(design.updateStatus).toContainText("reloaded the project");
  expect(readFileSync(join(ui.projectDir, "wrangler.jsonc"), "utf8")).toContain('"MOOD": "calm"');

  await design.tab("src/index.ts").click();
  await expect(design.editor()).toHaveAttribute("data-types", "loaded");
  const { before, after } = sourceAroundIncrement(ui.projectDir);
  await design.replaceCodeAround(`${before}    ({} as Cloudflare.Env).MOOD.toFixed();\n`, after);
  await design.page.keyboard.press("ControlOrMeta+Home");
  const problem = await design.problem("toFixed");
  await expect(problem.message).toContainText(`Property 'toFixed' does not exist on type '"calm"'`);
  await expect(problem.line).toHaveText(String(before.split("\n").length));
});
