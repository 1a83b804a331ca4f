import type { Locator, Page } from "@playwright/test";

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
    this.file = page.getByTestId("file-select");
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

  editor(): Locator {
    return this.page.getByRole("textbox", { name: /^Code of / });
  }
}
