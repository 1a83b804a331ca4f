import { BrowserWindow, type Session, type WebContents } from "electron";
import { contentSecurityPolicy, secureWindowOptions, type SecureWindowInput } from "./window-options.ts";

export interface CreateSecureWindowInput extends SecureWindowInput {
  /** The Vite dev server the window loads in `electron-vite dev`; relaxes the CSP for it. */
  readonly devServerOrigin?: string;
  /** Origins the page may connect to besides its own (the project's router). */
  readonly connectOrigins?: readonly string[];
}

const hardenedSessions = new WeakSet<Session>();

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
  // NOTE: a session holds one listener per webRequest event; installing it
  // again for a second window would only replace it with an identical one.
  if (hardenedSessions.has(session)) return;
  hardenedSessions.add(session);
  session.webRequest.onHeadersReceived((details, callback) => {
    const responseHeaders = Object.fromEntries(
      Object.entries(details.responseHeaders ?? {}).filter(
        ([name]) => name.toLowerCase() !== "content-security-policy",
      ),
    );
    responseHeaders["Content-Security-Policy"] = [csp];
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
