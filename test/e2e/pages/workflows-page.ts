import type { Locator, Page } from "@playwright/test";

/** The Inspector's Workflows page: instances, one instance's timeline, its actions. */
export class WorkflowsPage {
  readonly root: Locator;
  readonly counts: Locator;
  readonly instancePanel: Locator;
  readonly steps: Locator;
  readonly attempts: Locator;
  readonly output: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByTestId("workflows-page");
    this.counts = page.getByTestId("workflow-counts");
    this.instancePanel = page.getByTestId("workflow-instance");
    this.steps = page.getByTestId("workflow-step");
    this.attempts = page.getByTestId("workflow-attempt");
    this.output = page.getByTestId("workflow-output");
  }

  instance(id: string): Locator {
    return this.page.locator(`[data-testid="workflow-instance-row"][data-id="${id}"]`);
  }

  step(name: string): Locator {
    return this.page.locator(`[data-testid="workflow-step"][data-step="${name}"]`);
  }

  button(name: string): Locator {
    return this.root.getByRole("button", { name, exact: true });
  }

  async create(params: string, id: string): Promise<void> {
    await this.page.getByLabel("Instance id").fill(id);
    await this.page.getByLabel("Instance params").fill(params);
    await this.button("Create instance").click();
  }

  async sendEvent(type: string, payload: string): Promise<void> {
    await this.page.getByLabel("Event type").fill(type);
    await this.page.getByLabel("Event payload").fill(payload);
    await this.button("Send event").click();
  }
}
