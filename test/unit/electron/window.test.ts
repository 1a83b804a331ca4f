import { beforeEach, describe, expect, it, vi } from "vitest";
import { contentSecurityPolicy, secureWindowOptions } from "../../../electron/window-options.ts";

// A stand-in for the few Electron APIs createSecureWindow() touches: no
// Electron binary is needed (nor available on CI machines).
const fake = vi.hoisted(() => {
  type Listener = (...args: unknown[]) => unknown;
  const state = {
    windowOptions: [] as unknown[],
    contentsListeners: new Map<string, Listener>(),
    windowOpenHandler: undefined as Listener | undefined,
    headersListener: undefined as Listener | undefined,
    permissionRequestHandler: undefined as Listener | undefined,
    permissionCheckHandler: undefined as Listener | undefined,
  };
  const session = {
    webRequest: {
      onHeadersReceived: (listener: Listener) => void (state.headersListener = listener),
    },
    setPermissionRequestHandler: (handler: Listener) => void (state.permissionRequestHandler = handler),
    setPermissionCheckHandler: (handler: Listener) => void (state.permissionCheckHandler = handler),
  };
  class BrowserWindow {
    webContents = {
      session,
      setWindowOpenHandler: (handler: Listener) => void (state.windowOpenHandler = handler),
      on: (event: string, listener: Listener) => void state.contentsListeners.set(event, listener),
    };
    constructor(options: unknown) {
      state.windowOptions.push(options);
    }
  }
  return { state, BrowserWindow };
});
vi.mock("electron", () => ({ BrowserWindow: fake.BrowserWindow }));

const { createSecureWindow } = await import("../../../electron/window.ts");

describe("secureWindowOptions", () => {
  const options = secureWindowOptions({ preload: "/app/out/preload/index.cjs" });

  it("isolates and sandboxes the renderer, without Node or webviews", () => {
    expect(options.webPreferences).toMatchObject({
      preload: "/app/out/preload/index.cjs",
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
    });
  });

  it("creates the window hidden until it has painted", () => {
    expect(options.show).toBe(false);
  });
});

describe("contentSecurityPolicy", () => {
  const directives = (csp: string) =>
    new Map(csp.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1)] as const));

  it("starts from default-src 'none' and allows only the app's own resources", () => {
    const csp = contentSecurityPolicy();
    expect(csp.startsWith("default-src 'none'")).toBe(true);
    const d = directives(csp);
    expect(d.get("script-src")).toEqual(["'self'"]);
    // Inline styles only (the code editor, Monaco, writes its own): never inline scripts.
    expect(d.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
    expect(d.get("connect-src")).toEqual(["'self'"]);
    expect(d.get("base-uri")).toEqual(["'none'"]);
    expect(d.get("form-action")).toEqual(["'none'"]);
    expect(d.get("frame-ancestors")).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-eval|\*/);
    expect(d.get("script-src")).not.toContain("'unsafe-inline'");
  });

  it("relaxes only for the dev server when one is given", () => {
    const d = directives(contentSecurityPolicy({ devServerOrigin: "http://localhost:5173" }));
    expect(d.get("default-src")).toEqual(["'none'"]);
    expect(d.get("script-src")).toEqual(["'self'", "'unsafe-inline'"]);
    expect(d.get("connect-src")).toEqual(["'self'", "ws://localhost:5173"]);
  });

  it("lets the page connect to the project's router, and nothing else more", () => {
    const d = directives(contentSecurityPolicy({ connectOrigins: ["ws://127.0.0.1:8787"] }));
    expect(d.get("connect-src")).toEqual(["'self'", "ws://127.0.0.1:8787"]);
    expect(d.get("script-src")).toEqual(["'self'"]);
  });
});

describe("createSecureWindow", () => {
  beforeEach(() => {
    fake.state.windowOptions.length = 0;
    fake.state.contentsListeners.clear();
  });

  it("builds the window from secureWindowOptions()", () => {
    createSecureWindow({ preload: "/p.cjs" });
    expect(fake.state.windowOptions).toEqual([secureWindowOptions({ preload: "/p.cjs" })]);
  });

  it("denies new windows", () => {
    createSecureWindow({ preload: "/p.cjs" });
    expect(fake.state.windowOpenHandler?.({ url: "https://example.com" })).toEqual({ action: "deny" });
  });

  it("blocks navigation and webview attachment", () => {
    createSecureWindow({ preload: "/p.cjs" });
    for (const event of ["will-navigate", "will-attach-webview"]) {
      const preventDefault = vi.fn();
      fake.state.contentsListeners.get(event)?.({ preventDefault });
      expect(preventDefault, event).toHaveBeenCalledOnce();
    }
  });

  it("sends the strict CSP on every response, replacing any other", () => {
    createSecureWindow({ preload: "/p.cjs" });
    const callback = vi.fn();
    fake.state.headersListener?.(
      { responseHeaders: { "content-security-policy": ["default-src *"], "Content-Type": ["text/html"] } },
      callback,
    );
    expect(callback).toHaveBeenCalledWith({
      responseHeaders: {
        "Content-Type": ["text/html"],
        "Content-Security-Policy": [contentSecurityPolicy()],
      },
    });
  });

  it("sends the CSP of the last window opened, with its router's origin", () => {
    createSecureWindow({ preload: "/p.cjs", connectOrigins: ["ws://127.0.0.1:8787"] });
    createSecureWindow({ preload: "/p.cjs", connectOrigins: ["ws://127.0.0.1:9000"] });
    const callback = vi.fn();
    fake.state.headersListener?.({ responseHeaders: {} }, callback);
    expect(callback).toHaveBeenCalledWith({
      responseHeaders: {
        "Content-Security-Policy": [contentSecurityPolicy({ connectOrigins: ["ws://127.0.0.1:9000"] })],
      },
    });
    createSecureWindow({ preload: "/p.cjs" });
  });

  it("refuses every permission", () => {
    createSecureWindow({ preload: "/p.cjs" });
    const callback = vi.fn();
    fake.state.permissionRequestHandler?.({}, "media", callback);
    expect(callback).toHaveBeenCalledWith(false);
    expect(fake.state.permissionCheckHandler?.({}, "notifications")).toBe(false);
  });
});
