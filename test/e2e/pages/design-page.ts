import type { Locator, Page } from "@playwright/test";

/** The Design view: the topology canvas and the code editor. */
export class DesignPage {
  readonly canvas: Locator;
  readonly file: Locator;
  readonly save: Locator;
  readonly saveStatus: Locator;
  readonly updateStatus: Locator;

  constructor(readonly page: Page) {
    this.canvas = page.getByTestId("topology");
    this.file = page.getByTestId("file-select");
    this.save = page.getByRole("button", { name: "Save" });
    this.saveStatus = page.getByTestId("save-status");
    this.updateStatus = page.getByTestId("update-status");
  }

  classNode(className: string): Locator {
    return this.page.getByTestId(`class-${className}`);
  }

  editor(): Locator {
    return this.page.getByRole("textbox", { name: /^Code of / });
  }
}
