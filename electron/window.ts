import { BrowserWindow, type Session, type WebContents } from "electron";
import { contentSecurityPolicy, secureWindowOptions, type SecureWindowInput } from "./window-options.ts";

export interface CreateSecureWindowInput extends SecureWindowInput {
  /** The Vite dev server the window loads in `electron-vite dev`; relaxes the CSP for it. */
  readonly devServerOrigin?: string;
  /** Origins the page may connect to besides its own (the project's router). */
  readonly connectOrigins?: readonly string[];
}

/** The CSP each hardened session sends: that of the last window opened in it. */
const sessionCsp = new WeakMap<Session, string>();

/**
 * The one way Terrarium opens a window. Besides the options of
 * secureWindowOptions(), it denies every new window, blocks every navigation
 * away from the loaded page and `<webview>` attachment, and makes the window's
 * session send the strict CSP on every response and refuse every permission
 * (camera, notifications, ...).
 */
export function createSecureWindow(input: CreateSecureWindowInput): BrowserWindow {
  const window = new BrowserWindow(secureWindowOptions({ preload: input.preload }));
  const csp = contentSecurityPolicy({
    ...(input.devServerOrigin === undefined ? {} : { devServerOrigin: input.devServerOrigin }),
    ...(input.connectOrigins === undefined ? {} : { connectOrigins: input.connectOrigins }),
  });
  hardenSession(window.webContents.session, csp);
  hardenWebContents(window.webContents);
  return window;
}

function hardenSession(session: Session, csp: string): void {
  // NOTE: a session holds one listener per webRequest event, installed once;
  // a later window (another project, whose router has another port) brings
  // its CSP, which the listener sends from then on.
  const installed = sessionCsp.has(session);
  sessionCsp.set(session, csp);
  if (installed) return;
  session.webRequest.onHeadersReceived((details, callback) => {
    const responseHeaders = Object.fromEntries(
      Object.entries(details.responseHeaders ?? {}).filter(
        ([name]) => name.toLowerCase() !== "content-security-policy",
      ),
    );
    responseHeaders["Content-Security-Policy"] = [sessionCsp.get(session) ?? csp];
    callback({ responseHeaders });
  });
  session.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

function hardenWebContents(contents: WebContents): void {
  // TODO(ui): links to documentation will go through shell.openExternal here,
  // for https URLs only; until then nothing opens.
  contents.setWindowOpenHandler(() => ({ action: "deny" }));
  contents.on("will-navigate", (event) => event.preventDefault());
  contents.on("will-attach-webview", (event) => event.preventDefault());
}
