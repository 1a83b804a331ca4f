import type { Locator, Page } from "@playwright/test";

/** An object's Snapshots panel and a class's history in the Design view. */
export class TimeTravelPage {
  readonly snapshotRows: Locator;
  readonly label: Locator;
  readonly take: Locator;
  readonly compare: Locator;
  readonly diff: Locator;
  readonly notice: Locator;
  readonly error: Locator;
  readonly version: Locator;
  readonly versionRows: Locator;
  readonly historyNotice: Locator;
  readonly historyError: Locator;

  constructor(readonly page: Page) {
    this.snapshotRows = page.getByTestId("snapshot-row");
    this.label = page.getByLabel("Snapshot label");
    this.take = page.getByRole("button", { name: "Take snapshot" });
    this.compare = page.getByRole("button", { name: "Compare ticked" });
    this.diff = page.getByTestId("snapshot-diff");
    this.notice = page.getByTestId("snapshot-notice");
    this.error = page.getByTestId("snapshot-error");
    this.version = page.getByTestId("object-version");
    this.versionRows = page.getByTestId("version-row");
    this.historyNotice = page.getByTestId("history-notice");
    this.historyError = page.getByTestId("history-error");
  }

  /** One snapshot's row, by its label. */
  snapshot(label: string): Locator {
    return this.snapshotRows.filter({ hasText: label });
  }

  /** A table's block in the diff. */
  diffTable(table: string): Locator {
    return this.page.locator(`[data-testid="diff-table"][data-table="${table}"]`);
  }

  get diffKv(): Locator {
    return this.page.getByTestId("diff-kv");
  }

  /** Accepts the next confirm() the page shows, after checking what it says. */
  acceptNext(contains: string): void {
    this.page.once("dialog", (d) => {
      if (!d.message().includes(contains)) void d.dismiss();
      else void d.accept();
    });
  }
}
