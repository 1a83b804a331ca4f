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

  readonly wsPath: Locator;
  readonly wsConnect: Locator;
  readonly wsDisconnect: Locator;
  readonly wsStatus: Locator;
  readonly wsMessage: Locator;
  readonly wsSend: Locator;
  readonly wsLog: Locator;

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
    this.wsPath = page.getByLabel("WebSocket path");
    this.wsConnect = page.getByRole("button", { name: "Connect" });
    this.wsDisconnect = page.getByRole("button", { name: "Disconnect" });
    this.wsStatus = page.getByTestId("ws-status");
    this.wsMessage = page.getByLabel("Message", { exact: true });
    this.wsSend = page.getByRole("region", { name: "WebSocket" }).getByRole("button", { name: "Send" });
    this.wsLog = page.getByTestId("ws-message");
  }

  section(name: "HTTP" | "WebSocket" | "Load"): Locator {
    return this.page.getByRole("navigation", { name: "Console sections" }).getByRole("button", { name });
  }

  /** A message in the WebSocket log, by direction and text. */
  wsEntry(kind: "sent" | "received" | "info" | "error", text: string | RegExp): Locator {
    return this.wsLog
      .and(this.page.locator(`[data-kind="${kind}"]`))
      .filter({ has: this.page.locator(".message", { hasText: text }) });
  }

  async wsSay(text: string): Promise<void> {
    await this.wsMessage.fill(text);
    await this.wsMessage.press("Enter");
  }

  async request(method: string, path: string, body?: string): Promise<void> {
    await this.method.selectOption(method);
    await this.path.fill(path);
    if (body !== undefined) await this.body.fill(body);
    await this.send.click();
  }
}
