import { expect, type Locator, type Page } from "@playwright/test";

/** The Design view: the topology canvas and the code editor. */
export class DesignPage {
  readonly canvas: Locator;
  readonly file: Locator;
  readonly save: Locator;
  readonly saveStatus: Locator;
  readonly updateStatus: Locator;

  readonly addObject: Locator;
  readonly className: Locator;
  readonly binding: Locator;
  readonly addResult: Locator;
  /** The canvas's Static assets box (wrangler's `assets`). */
  readonly assets: Locator;

  constructor(readonly page: Page) {
    this.canvas = page.getByTestId("topology");
    this.file = page.getByTestId("open-file");
    this.save = page.getByRole("button", { name: "Save", exact: true });
    this.saveStatus = page.getByTestId("save-status");
    this.updateStatus = page.getByTestId("update-status");
    this.addObject = page.getByRole("button", { name: "+ Add object" });
    this.className = page.getByLabel("Class name", { exact: true });
    this.binding = page.getByLabel("Binding", { exact: true });
    this.addResult = page.getByTestId("add-class-result");
    this.assets = page.getByTestId("external-assets");
  }

  /** The side panel: the selected class, routes and subscriptions, timeouts. */
  panelTab(name: "Class" | "Routes & subscriptions" | "Timeouts"): Locator {
    return this.page.getByRole("tab", { name, exact: true });
  }

  get panelStatus(): Locator {
    return this.page.getByTestId("design-panel-status");
  }

  get panelError(): Locator {
    return this.page.getByRole("complementary", { name: "Design settings" }).getByRole("alert");
  }

  panelButton(name: string): Locator {
    return this.page.getByRole("complementary", { name: "Design settings" }).getByRole("button", { name });
  }

  panelField(label: string): Locator {
    return this.page
      .getByRole("complementary", { name: "Design settings" })
      .getByLabel(label, { exact: true });
  }

  /** The frame the topology is drawn in (it scrolls what does not fit). */
  get canvasFrame(): Locator {
    return this.page.getByRole("region", { name: "Topology" });
  }

  /** An external system's box on the canvas, by its title ("Storage · R2"). */
  externalNode(title: string): Locator {
    return this.page.getByTestId(`external-${title}`);
  }

  classNode(className: string): Locator {
    return this.page.getByTestId(`class-${className}`);
  }

  template(kind: string): Locator {
    return this.page.getByRole("listitem").filter({ hasText: kind });
  }

  /** The form's submit button, "Add <kind>". */
  add(kind: string): Locator {
    return this.page.getByRole("button", { name: `Add ${kind}` });
  }

  /** The code editor (Monaco) once loaded, editing (not showing a diff). */
  editor(): Locator {
    return this.page.locator('[data-code-editor="ready"]');
  }

  /** The lines the editor shows (Monaco renders only those in view). */
  code(): Locator {
    return this.editor().locator(".view-lines");
  }

  /** The diff of the open file against its saved text, shown before a save that reloads the project. */
  diff(): Locator {
    return this.page.locator('[data-code-editor="diff"]');
  }

  /** Pastes `text` where the editor's cursor is (a paste event, as Ctrl+V sends: no auto-indenting). */
  async paste(text: string): Promise<void> {
    // A string: this file is type-checked without the DOM library.
    await this.page.evaluate(`{
      const data = new DataTransfer();
      data.setData("text/plain", ${JSON.stringify(text)});
      document.activeElement?.dispatchEvent(
        new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }),
      );
    }`);
  }

  /** Replaces the open file's text, as select-all and paste would, and leaves the cursor at its end. */
  async replaceCode(text: string): Promise<void> {
    await this.code().click();
    await this.page.keyboard.press("ControlOrMeta+A");
    await this.paste(text);
  }

  /** Replaces the open file's text with `before + after` and leaves the cursor between the two. */
  async replaceCodeAround(before: string, after: string): Promise<void> {
    await this.replaceCode(after);
    await this.page.keyboard.press("ControlOrMeta+Home");
    await this.paste(before);
  }

  /**
   * Goes through the editor's problems (F8, from the cursor on) to the first
   * whose message has `text`: its message shows, the cursor is on its line.
   */
  async problem(text: string): Promise<{ message: Locator; line: Locator }> {
    const message = this.editor().locator(".marker-widget");
    // Markers of an earlier text may still show until the language service has
    // checked the latest one: go on through the problems until the one meant.
    await expect
      .poll(
        async () => {
          await this.page.keyboard.press("F8");
          return (await message.count()) > 0 ? await message.textContent() : "";
        },
        { message: `a problem saying ${text}`, timeout: 30_000 },
      )
      .toContain(text);
    return { message, line: this.editor().locator(".line-numbers.active-line-number") };
  }

  /** The completion list Monaco shows. */
  suggestions(): Locator {
    return this.page.locator(".suggest-widget.visible");
  }

  /** A file in the project's file tree, by its path. */
  treeFile(path: string): Locator {
    return this.page.getByRole("navigation", { name: "Project files" }).locator(`button[title="${path}"]`);
  }

  /** An open file's tab, by its path. */
  tab(path: string): Locator {
    return this.page.getByRole("tablist", { name: "Open files" }).locator(`[role="tab"][title="${path}"]`);
  }
}
