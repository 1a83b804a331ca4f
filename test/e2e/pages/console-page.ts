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
  readonly saveOpen: Locator;
  readonly saveAs: Locator;
  readonly saveConfirm: Locator;
  readonly saved: Locator;
  readonly newName: Locator;
  readonly htmlPreview: Locator;

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
    this.send = page.getByRole("button", { name: "Send", exact: true });
    this.copyCurl = page.getByRole("button", { name: "Copy as curl" });
    this.curl = page.getByLabel("curl command");
    this.status = page.getByTestId("response-status");
    this.responseBody = page.getByTestId("response-body");
    this.history = page.getByTestId("history").getByRole("button");
    this.saveOpen = page.getByRole("button", { name: "Save…", exact: true });
    this.saveAs = page.getByLabel("Save as");
    this.saveConfirm = page.getByRole("button", { name: "Save request", exact: true });
    this.saved = page.getByTestId("saved-requests").locator("[data-saved-name]");
    this.newName = page.getByLabel("New name");
    this.htmlPreview = page.getByTestId("html-preview");
    this.wsPath = page.getByLabel("WebSocket path");
    this.wsConnect = page.getByRole("button", { name: "Connect" });
    this.wsDisconnect = page.getByRole("button", { name: "Disconnect" });
    this.wsStatus = page.getByTestId("ws-status");
    this.wsMessage = page.getByLabel("Message", { exact: true });
    this.wsSend = page.getByRole("region", { name: "WebSocket" }).getByRole("button", { name: "Send" });
    this.wsLog = page.getByTestId("ws-message");
  }

  /** A saved request in the side list, by its name. */
  savedRequest(name: string): Locator {
    return this.page.getByTestId("saved-requests").locator(`[data-saved-name="${name}"]`);
  }

  /** The button that loads a saved request into the composer. */
  openSaved(name: string): Locator {
    return this.savedRequest(name).locator("button.saved-open");
  }

  renameSaved(name: string): Locator {
    return this.page.getByRole("button", { name: `Rename ${name}`, exact: true });
  }

  deleteSaved(name: string): Locator {
    return this.page.getByRole("button", { name: `Delete ${name}`, exact: true });
  }

  /** The response's Body, Preview (HTML only) or Headers tab. */
  responseTab(name: "Body" | "Preview" | RegExp): Locator {
    return this.page.getByTestId("response").getByRole("button", { name });
  }

  /** Saves the composer's request under a name. */
  async saveAsName(name: string): Promise<void> {
    await this.saveOpen.click();
    await this.saveAs.fill(name);
    await this.saveConfirm.click();
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
