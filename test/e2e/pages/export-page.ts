import type { Locator, Page } from "@playwright/test";

/** The Export view: the output folder, the files the export writes, writing them, validation. */
export class ExportPage {
  readonly view: Locator;
  readonly folder: Locator;
  readonly overwrite: Locator;
  readonly write: Locator;
  readonly target: Locator;
  readonly result: Locator;
  readonly files: Locator;
  readonly preview: Locator;
  readonly exporterCheck: Locator;

  constructor(readonly page: Page) {
    this.view = page.getByTestId("export-view");
    this.folder = page.getByLabel("Output folder");
    this.overwrite = page.getByLabel("Overwrite");
    this.write = page.getByRole("button", { name: /^Write/ });
    this.target = page.getByTestId("export-target");
    this.result = page.getByTestId("export-result");
    this.files = page.getByTestId("export-file");
    this.preview = page.getByTestId("export-preview");
    this.exporterCheck = page.getByTestId("exporter-check");
  }

  file(path: string): Locator {
    return this.page.locator(`[data-testid="export-file"][data-path="${path}"]`);
  }

  /** One validation check: its button, status and output. */
  check(name: "typecheck" | "dry-run"): { run: Locator; status: Locator; output: Locator } {
    const box = this.page.getByTestId(`check-${name}`);
    return {
      run: box.getByRole("button"),
      status: box.getByTestId("check-status"),
      output: box.getByTestId("check-output"),
    };
  }
}
