import type { Locator, Page } from "@playwright/test";
import { ConsolePage } from "./console-page.ts";
import { DesignPage } from "./design-page.ts";
import { ExportPage } from "./export-page.ts";
import { InspectorPage } from "./inspector-page.ts";
import { LoadPage } from "./load-page.ts";

/** The whole app: its tabs, and one page module per view. */
export class AppPage {
  readonly console: ConsolePage;
  readonly inspector: InspectorPage;
  readonly design: DesignPage;
  readonly load: LoadPage;
  readonly export: ExportPage;

  constructor(readonly page: Page) {
    this.console = new ConsolePage(page);
    this.inspector = new InspectorPage(page);
    this.design = new DesignPage(page);
    this.load = new LoadPage(page);
    this.export = new ExportPage(page);
  }

  /** Opens the UI and waits for the app-ready marker: connected, project loaded. */
  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.locator('[data-app-ready="true"]').waitFor();
  }

  tab(name: "Design" | "Console" | "Inspector" | "Export"): Locator {
    return this.page.getByRole("tab", { name });
  }

  async show(name: "Design" | "Console" | "Inspector" | "Export"): Promise<void> {
    await this.tab(name).click();
  }
}
