import { join } from "node:path";
import { app, BrowserWindow } from "electron";
import { createSecureWindow } from "./window.ts";

// The Electron main process: for now only the window. The engine (runtime/)
// and the control API the preload exposes come later.

// Set by `electron-vite dev` to the renderer's dev server; unset in a build.
const devServerUrl = app.isPackaged ? undefined : process.env["ELECTRON_RENDERER_URL"];

async function openMainWindow(): Promise<void> {
  const window = createSecureWindow({
    preload: join(import.meta.dirname, "../preload/index.cjs"),
    ...(devServerUrl === undefined ? {} : { devServerOrigin: new URL(devServerUrl).origin }),
  });
  window.once("ready-to-show", () => window.show());
  if (devServerUrl === undefined) {
    await window.loadFile(join(import.meta.dirname, "../renderer/index.html"));
  } else {
    await window.loadURL(devServerUrl);
  }
}

// Every renderer sandboxed, whatever its options say; must precede "ready".
app.enableSandbox();

app.on("window-all-closed", () => {
  if (process.platform !== "darwin") app.quit();
});

app.on("activate", () => {
  if (BrowserWindow.getAllWindows().length === 0) void openMainWindow();
});

app
  .whenReady()
  .then(openMainWindow)
  .catch((error: unknown) => {
    console.error("terrarium: the main window could not be opened:", error);
    app.exit(1);
  });
