import type { Locator, Page } from "@playwright/test";

/** The Console view: request composer, response and history. */
export class ConsolePage {
  readonly method: Locator;
  readonly path: Locator;
  readonly body: Locator;
  readonly send: Locator;
  readonly copyCurl: Locator;
  readonly curl: Locator;
  readonly status: Locator;
  readonly responseBody: Locator;
  readonly history: Locator;

  constructor(readonly page: Page) {
    this.method = page.getByLabel("Method");
    this.path = page.getByLabel("Path");
    this.body = page.getByLabel("Body", { exact: true });
    this.send = page.getByRole("button", { name: "Send" });
    this.copyCurl = page.getByRole("button", { name: "Copy as curl" });
    this.curl = page.getByLabel("curl command");
    this.status = page.getByTestId("response-status");
    this.responseBody = page.getByTestId("response-body");
    this.history = page.getByTestId("history").getByRole("button");
  }

  async request(method: string, path: string, body?: string): Promise<void> {
    await this.method.selectOption(method);
    await this.path.fill(path);
    if (body !== undefined) await this.body.fill(body);
    await this.send.click();
  }
}
