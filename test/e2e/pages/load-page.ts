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
  }

  /** Seconds the run view has drawn so far. */
  async seconds(): Promise<number> {
    return Number(await this.runView.getAttribute("data-seconds"));
  }

  pick(i: number): Locator {
    return this.runs.nth(i).getByRole("checkbox");
  }
}
