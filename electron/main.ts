import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { app, BrowserWindow, dialog, ipcMain, type WebContents } from "electron";
import type { Engine } from "../runtime/engine.ts";
import { registerControlIpc } from "./control-ipc.ts";
import { createSecureWindow } from "./window.ts";

// The Electron main process: the engine (the orchestration layer) for one
// project, the window, and the control API served to it over validated IPC.

// Set by `electron-vite dev` to the renderer's dev server; unset in a build.
const devServerUrl = app.isPackaged ? undefined : process.env["ELECTRON_RENDERER_URL"];
const rendererFile = join(import.meta.dirname, "../renderer/index.html");
const rendererUrl = pathToFileURL(rendererFile).href;
const appRoot = app.getAppPath();
const ourWindows = new Set<WebContents>();

let engine: Engine | null = null;

/**
 * Opens the engine from its TypeScript sources, as the CLI does (tsx compiles
 * them on load): its bundler and object workers find their files relative to
 * those sources, so they are not bundled into this file.
 */
async function openEngine(projectDir: string): Promise<Engine> {
  const { register } = await import("tsx/esm/api");
  register();
  const entry = pathToFileURL(join(appRoot, "runtime", "engine.ts")).href;
  const { Engine: EngineClass } = (await import(entry)) as typeof import("../runtime/engine.ts");
  const opened = await EngineClass.open({ projectDir });
  await opened.listen(8787).catch(() => opened.listen(0));
  // Saves from the Design view (and any editor) reload the project, as in `terrarium ui`.
  opened.watch();
  return opened;
}

function projectDirFromArgs(): string {
  const arg = process.argv.slice(app.isPackaged ? 1 : 2).find((a) => !a.startsWith("-"));
  return arg ?? join(appRoot, "resources", "samples", "aidevos");
}

function trusted(sender: WebContents, frameUrl: string | null, isTopFrame: boolean): boolean {
  if (!ourWindows.has(sender) || !isTopFrame || frameUrl === null) return false;
  if (devServerUrl !== undefined) return frameUrl.startsWith(new URL(devServerUrl).origin + "/");
  return (
    frameUrl === rendererUrl ||
    frameUrl.startsWith(`${rendererUrl}?`) ||
    frameUrl.startsWith(`${rendererUrl}#`)
  );
}

async function openMainWindow(): Promise<void> {
  const window = createSecureWindow({
    preload: join(import.meta.dirname, "../preload/index.cjs"),
    ...(devServerUrl === undefined ? {} : { devServerOrigin: new URL(devServerUrl).origin }),
    ...(engine?.url ? { connectOrigins: [engine.url.replace(/^http/, "ws")] } : {}),
  });
  const contents = window.webContents;
  ourWindows.add(contents);
  contents.once("destroyed", () => ourWindows.delete(contents));
  window.once("ready-to-show", () => window.show());
  if (devServerUrl === undefined) {
    await window.loadFile(rendererFile);
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

let closing = false;
app.on("before-quit", (event) => {
  if (!engine || closing) return;
  event.preventDefault();
  closing = true;
  void engine.close().finally(() => app.quit());
});

app
  .whenReady()
  .then(async () => {
    const projectDir = projectDirFromArgs();
    try {
      engine = await openEngine(projectDir);
    } catch (error) {
      dialog.showErrorBox(
        "Terrarium",
        `The project in ${projectDir} could not be opened:\n\n${String(error)}`,
      );
      app.exit(1);
      return;
    }
    registerControlIpc({ ipcMain, api: engine.api, trusted });
    await openMainWindow();
  })
  .catch((error: unknown) => {
    console.error("terrarium: the main window could not be opened:", error);
    app.exit(1);
  });
