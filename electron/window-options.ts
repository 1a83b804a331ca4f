import type { BrowserWindowConstructorOptions } from "electron";

// The security settings of every Terrarium window, as plain data. Kept apart
// from window.ts (which creates the window) so they can be asserted in a unit
// test that never loads Electron: this module imports only types from it.

export interface ContentSecurityPolicyOptions {
  /**
   * Origin of the Vite dev server (`electron-vite dev`). Its React refresh
   * preamble is an inline script, its CSS arrives as inline styles and its hot
   * reload needs a WebSocket back to it; none of that is allowed without it.
   */
  readonly devServerOrigin?: string;
  /** Origins the page may also connect to: the project's router, for the Console's WebSocket client. */
  readonly connectOrigins?: readonly string[];
}

/**
 * The Content-Security-Policy of the renderer. It starts from
 * `default-src 'none'` and allows back only what the bundled UI loads: its own
 * scripts, styles, fonts and images (plus `data:` images), and connections to
 * its own origin (the web twin's bridge) and to `connectOrigins` (the
 * project's router). No inline script, no eval, no
 * plugins, no frames, no form posts, no `<base>` rewriting. Inline styles
 * are allowed: the code editor (Monaco) needs them.
 *
 * NOTE: the Console's HTML preview is an `<iframe sandbox="" srcdoc>`; a
 * srcdoc document is not fetched, so no frame-src is needed for it, and it
 * inherits this policy (its scripts and remote loads stay blocked, besides
 * what the sandbox blocks).
 */
export function contentSecurityPolicy(options: ContentSecurityPolicyOptions = {}): string {
  const dev = options.devServerOrigin;
  const directives: Record<string, string[]> = {
    "default-src": ["'none'"],
    "script-src": dev ? ["'self'", "'unsafe-inline'"] : ["'self'"],
    // NOTE: 'unsafe-inline' for styles only: the code editor (Monaco) writes
    // its theme and layout as <style> elements and style attributes, and has
    // no nonce support.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": [
      "'self'",
      ...(dev ? [dev.replace(/^http/, "ws")] : []),
      ...(options.connectOrigins ?? []),
    ],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
    "frame-ancestors": ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(" ")}`)
    .join("; ");
}

export interface SecureWindowInput {
  /** Absolute path of the built, self-contained preload bundle. */
  readonly preload: string;
}

/**
 * Options for every BrowserWindow Terrarium opens. The renderer is untrusted
 * web content: isolated from the preload, sandboxed by the OS, without Node,
 * without `<webview>`. A window is created hidden and shown once painted.
 */
export function secureWindowOptions(input: SecureWindowInput): BrowserWindowConstructorOptions {
  return {
    title: "Terrarium",
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 500,
    show: false,
    backgroundColor: "#101418",
    webPreferences: {
      preload: input.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}
