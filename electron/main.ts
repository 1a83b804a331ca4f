import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { app, BrowserWindow, dialog, ipcMain, Menu, shell, utilityProcess, type WebContents } from "electron";
import { registerControlIpc } from "./control-ipc.ts";
import { EngineHost, type UtilityChild } from "./engine-host.ts";
import { buildMenuTemplate } from "./menu.ts";
import { isProjectFolder, PROJECT_TEMPLATES, RecentProjects } from "./projects.ts";
import { stopBeforeQuit } from "./quit.ts";
import { isAppPage } from "./trusted-frame.ts";
import { createSecureWindow } from "./window.ts";
import { runtimeModule } from "./runtime-module.ts";

// The Electron main process: the window, the menu, and the control API served
// to the window over validated IPC. The engine (the orchestration layer) for
// the open project runs in a utility process (engine-process.ts), supervised
// by engine-host.ts: an object that aborts V8's process ends that one, and it
// is started again; the window stays.

// Set by `electron-vite dev` to the renderer's dev server; unset in a build.
const devServerUrl = app.isPackaged ? undefined : process.env["ELECTRON_RENDERER_URL"];
const rendererFile = join(import.meta.dirname, "../renderer/index.html");
const rendererUrl = pathToFileURL(rendererFile).href;
const appRoot = app.getAppPath();
const ourWindows = new Set<WebContents>();

/** The open project's engine, in its utility process. */
let engine: EngineHost | null = null;
let closeIpc: (() => void) | null = null;
/** Set once the app is ready (userData is known then). */
let recent: RecentProjects | null = null;

/** How long in-flight work gets when the project closes or the app quits (a spinning object is ended, not waited for). */
const QUIT_GRACE_MS = 5_000;

/** The engine's utility process, built beside this file (electron.vite.config.ts). */
const engineProcess = join(import.meta.dirname, "engine-process.js");

function forkEngine(): UtilityChild {
  return utilityProcess.fork(engineProcess, [], {
    serviceName: "Terrarium engine",
    stdio: "inherit",
  }) as unknown as UtilityChild;
}

/** A new window for the engine's router address (the window's CSP names it); the old ones closed after. */
async function replaceWindows(): Promise<void> {
  // The new window first: closing the last one would quit the app.
  const old = BrowserWindow.getAllWindows();
  await openMainWindow();
  for (const w of old) w.destroy();
}

/** The folder given on the command line, else the project opened last, else the AIDevOS sample. */
function firstProjectDir(): string {
  const arg = process.argv.slice(app.isPackaged ? 1 : 2).find((a) => !a.startsWith("-"));
  return arg ?? recent?.list()[0] ?? join(appRoot, "resources", "samples", "aidevos");
}

function trusted(sender: WebContents, frameUrl: string | null, isTopFrame: boolean): boolean {
  return ourWindows.has(sender) && isAppPage(frameUrl, isTopFrame, { rendererUrl, devServerUrl });
}

async function openMainWindow(): Promise<void> {
  const window = createSecureWindow({
    preload: join(import.meta.dirname, "../preload/index.cjs"),
    ...(devServerUrl === undefined ? {} : { devServerOrigin: new URL(devServerUrl).origin }),
    ...(engine?.info ? { connectOrigins: [engine.info.url.replace(/^http/, "ws")] } : {}),
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

function refreshMenu(): void {
  const template = buildMenuTemplate({
    platform: process.platform,
    appName: app.getName(),
    templates: PROJECT_TEMPLATES,
    recent: recent?.list() ?? [],
    hasProject: engine !== null,
    actions: {
      newProject: (id) => void newProject(id),
      openProject: () => void chooseProject(),
      openRecent: (dir) => void switchProject(dir),
      clearRecent: () => {
        recent?.clear();
        refreshMenu();
      },
      revealDataFolder: () => void revealDataFolder(),
      exportProject: () => void exportProject(),
    },
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function fail(title: string, error: unknown): void {
  dialog.showErrorBox("Terrarium", `${title}\n\n${error instanceof Error ? error.message : String(error)}`);
}

/** Opens a project's engine and serves its control API; remembers it as recent. */
async function startProject(projectDir: string): Promise<void> {
  const host: EngineHost = new EngineHost({
    fork: forkEngine,
    appRoot,
    // A restarted engine whose port was taken meanwhile listens on another: the window's CSP must name it.
    onRestart: (info, previous) => {
      if (engine === host && info.url !== previous.url) void replaceWindows();
    },
    onGone: (why) => {
      if (engine !== host) return;
      closeIpc?.();
      closeIpc = null;
      engine = null;
      refreshMenu();
      fail("The project's engine stopped and could not be started again.", why);
    },
  });
  await host.open(projectDir);
  engine = host;
  closeIpc = registerControlIpc({ ipcMain, api: host.api, trusted });
  recent?.add(projectDir);
}

async function stopProject(): Promise<void> {
  closeIpc?.();
  closeIpc = null;
  const old = engine;
  engine = null;
  await old?.stop(QUIT_GRACE_MS);
}

/**
 * Closes the open project and opens another in a new window (its CSP names
 * the new router's port). When the other cannot be opened, the previous one
 * is opened again.
 */
async function switchProject(dir: string): Promise<void> {
  if (!isProjectFolder(dir)) {
    fail(
      `${dir} is not a project folder.`,
      "A project folder holds a wrangler.jsonc, wrangler.json or wrangler.toml.",
    );
    return;
  }
  const previous = engine?.info?.projectDir ?? null;
  if (previous !== null && resolve(previous) === resolve(dir)) return;
  await stopProject();
  try {
    await startProject(dir);
  } catch (error) {
    fail(`The project in ${dir} could not be opened.`, error);
    if (previous)
      await startProject(previous).catch((e: unknown) => fail(`${previous} could not be reopened.`, e));
  }
  refreshMenu();
  if (!engine) return;
  await replaceWindows();
}

async function chooseProject(): Promise<void> {
  const picked = await dialog.showOpenDialog({
    title: "Open a project folder (one with a wrangler config)",
    properties: ["openDirectory"],
  });
  const dir = picked.filePaths[0];
  if (!picked.canceled && dir) await switchProject(dir);
}

async function newProject(templateId: string): Promise<void> {
  const picked = await dialog.showOpenDialog({
    title: "Choose an empty folder for the new project",
    buttonLabel: "Create Project Here",
    properties: ["openDirectory", "createDirectory", "promptToCreate"],
  });
  const dir = picked.filePaths[0];
  if (picked.canceled || !dir) return;
  let created: string;
  try {
    // The same code as `terrarium new`: the sample copied, its Worker named after the folder.
    const { newProject: create } = await runtimeModule<typeof import("../runtime/templates/new-project.ts")>(
      appRoot,
      "templates",
      "new-project.ts",
    );
    created = create(dir, { sample: templateId }).dir;
  } catch (error) {
    fail("The project could not be created.", error);
    return;
  }
  await switchProject(created);
}

async function revealDataFolder(): Promise<void> {
  const dataDir = engine?.info?.dataDir;
  if (!dataDir) return;
  const problem = await shell.openPath(dataDir);
  if (problem) fail(`${dataDir} could not be shown.`, problem);
}

/** Exports the project to a folder the user picks; a folder with files in it is replaced only when confirmed. */
async function exportProject(): Promise<void> {
  const current = engine?.api;
  if (!current) return;
  const picked = await dialog.showOpenDialog({
    title: "Export the project to a folder",
    buttonLabel: "Export Here",
    properties: ["openDirectory", "createDirectory", "promptToCreate"],
  });
  const outDir = picked.filePaths[0];
  if (picked.canceled || !outDir) return;
  try {
    const plan = await current.exportPlan({ outDir });
    let force = false;
    if (plan.target && plan.target.entries > 0) {
      const answer = await dialog.showMessageBox({
        type: "warning",
        message: `${outDir} is not empty.`,
        detail: "Replace its contents with the export? .git, node_modules and .wrangler are kept.",
        buttons: ["Replace Contents", "Cancel"],
        defaultId: 1,
        cancelId: 1,
      });
      if (answer.response !== 0) return;
      force = true;
    }
    const written = await current.writeExport({ outDir, force });
    await dialog.showMessageBox({
      type: "info",
      message: `Exported ${written.files} files to ${written.outDir}.`,
      detail: written.warnings.length ? written.warnings.join("\n") : "Deploy it with wrangler deploy.",
    });
  } catch (error) {
    fail("The export failed.", error);
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

// Quitting stops the engine within its grace period (a spinning object is ended, not waited for).
stopBeforeQuit(
  app,
  () => {
    const current = engine;
    if (!current) return null;
    closeIpc?.();
    closeIpc = null;
    engine = null;
    return current.stop(QUIT_GRACE_MS);
  },
  { graceMs: QUIT_GRACE_MS },
);

app
  .whenReady()
  .then(async () => {
    recent = new RecentProjects(join(app.getPath("userData"), "recent-projects.json"));
    const projectDir = firstProjectDir();
    try {
      await startProject(projectDir);
    } catch (error) {
      fail(`The project in ${projectDir} could not be opened.`, error);
      app.exit(1);
      return;
    }
    refreshMenu();
    await openMainWindow();
  })
  .catch((error: unknown) => {
    console.error("terrarium: the main window could not be opened:", error);
    app.exit(1);
  });
