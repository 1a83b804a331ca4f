import type { Locator, Page } from "@playwright/test";

/** The console's Load tab: profile, run history, the run's charts and tables. */
export class LoadPage {
  readonly profile: Locator;
  readonly json: Locator;
  readonly save: Locator;
  readonly start: Locator;
  readonly stop: Locator;
  readonly profileError: Locator;
  readonly runView: Locator;
  readonly charts: Locator;
  readonly stages: Locator;
  readonly scalingMarks: Locator;
  readonly heatCells: Locator;
  readonly classTable: Locator;
  readonly hotTable: Locator;
  readonly summary: Locator;
  readonly runs: Locator;
  readonly compareButton: Locator;
  readonly compareTable: Locator;
  /** The run's header line: the last second while it runs, the summary once saved. */
  readonly runNow: Locator;
  readonly runTitle: Locator;
  readonly heldBack: Locator;
  readonly scalerNote: Locator;

  constructor(readonly page: Page) {
    this.profile = page.getByLabel("Load profile", { exact: true });
    this.json = page.getByLabel("Profile JSON");
    this.save = page.getByRole("button", { name: "Save to terrarium.json" });
    this.start = page.getByRole("button", { name: /^Start/ });
    this.stop = page.getByRole("button", { name: "Stop" });
    this.profileError = page.getByTestId("profile-error");
    this.runView = page.getByTestId("run-view");
    this.charts = page.getByTestId("load-chart");
    this.stages = page.getByTestId("stage");
    this.scalingMarks = page.getByTestId("scaling-mark");
    this.heatCells = page.getByTestId("heat-strip").getByRole("button");
    this.classTable = page.getByTestId("class-table");
    this.hotTable = page.getByTestId("hot-table");
    this.summary = page.getByTestId("run-summary");
    this.runs = page.getByTestId("runs").getByRole("listitem");
    this.compareButton = page.getByRole("button", { name: /^Compare \d\/2/ });
    this.compareTable = page.getByTestId("compare-table");
    this.runNow = page.getByTestId("run-now");
    this.runTitle = page.getByTestId("run-title");
    this.heldBack = page.getByTestId("held-back");
    this.scalerNote = page.getByTestId("scaler-note");
  }

  /** The saved run's cost on Cloudflare. */
  get cost(): Locator {
    return this.page.getByTestId("run-cost");
  }
  costLine(metric: string): Locator {
    return this.page.getByTestId("cost-lines").locator(`tr[data-metric="${metric}"]`);
  }
  costClass(className: string): Locator {
    return this.page.getByTestId("cost-classes").locator(`tr[data-class="${className}"]`);
  }

  /** The mark beside a run in the list (✓, ✗ or !), by its place, newest first. */
  verdict(i: number): Locator {
    return this.runs.nth(i).getByTestId("run-verdict");
  }

  /** The saved run's summary row, by its heading ("Throughput", "Errors", ...). */
  summaryRow(name: string): Locator {
    return this.summary.getByRole("row").filter({ has: this.page.getByRole("rowheader", { name }) });
  }

  /** Puts a profile in the editor and starts it (as edited, when it differs from the saved one). */
  async startProfile(profile: unknown): Promise<void> {
    await this.json.fill(JSON.stringify(profile, null, 2));
    await this.start.click();
  }

  /** Seconds the run view has drawn so far. */
  async seconds(): Promise<number> {
    return Number(await this.runView.getAttribute("data-seconds"));
  }

  pick(i: number): Locator {
    return this.runs.nth(i).getByRole("checkbox");
  }
}
