import type { MenuItemConstructorOptions } from "electron";

// The application menu as plain data, built from callbacks: no Electron
// import beyond types, so a unit test asserts it without an Electron binary.
// electron/main.ts turns it into a Menu and supplies the callbacks.

/** A project template offered under File > New Project from Template. */
export interface MenuTemplate {
  readonly id: string;
  readonly label: string;
}

export interface MenuActions {
  /** Asks for an empty folder and creates a project there from the template. */
  readonly newProject: (templateId: string) => void;
  /** Asks for a project folder (one with a wrangler config) and opens it. */
  readonly openProject: () => void;
  readonly openRecent: (dir: string) => void;
  readonly clearRecent: () => void;
  /** Shows the project's data folder (.terrarium) in the file manager. */
  readonly revealDataFolder: () => void;
  /** Asks for a folder and exports the project there as a Cloudflare project. */
  readonly exportProject: () => void;
}

export interface MenuInput {
  readonly platform: NodeJS.Platform;
  readonly appName: string;
  readonly templates: readonly MenuTemplate[];
  /** Project folders, most recent first. */
  readonly recent: readonly string[];
  /** Whether a project is open (Reveal Data Folder and Export need one). */
  readonly hasProject: boolean;
  readonly actions: MenuActions;
}

/** The most recent projects the menu lists. */
export const RECENT_IN_MENU = 10;

/**
 * The application menu: the app menu on macOS, File (new from template,
 * open, recent, reveal data folder, export), Edit (the standard roles, which
 * make copy and paste work on macOS), View and Window.
 */
export function buildMenuTemplate(input: MenuInput): MenuItemConstructorOptions[] {
  const { actions } = input;
  const mac = input.platform === "darwin";
  const recent: MenuItemConstructorOptions[] = input.recent.length
    ? [
        ...input.recent
          .slice(0, RECENT_IN_MENU)
          .map((dir): MenuItemConstructorOptions => ({ label: dir, click: () => actions.openRecent(dir) })),
        { type: "separator" },
        { label: "Clear Recently Opened", click: () => actions.clearRecent() },
      ]
    : [{ label: "No Recent Projects", enabled: false }];

  const file: MenuItemConstructorOptions = {
    label: "&File",
    submenu: [
      {
        label: "New Project from Template",
        submenu: input.templates.map((t): MenuItemConstructorOptions => ({
          label: `${t.label}…`,
          click: () => actions.newProject(t.id),
        })),
      },
      { label: "Open Project Folder…", accelerator: "CmdOrCtrl+O", click: () => actions.openProject() },
      { label: "Open Recent", submenu: recent },
      { type: "separator" },
      {
        label: mac ? "Reveal Data Folder in Finder" : "Reveal Data Folder",
        enabled: input.hasProject,
        click: () => actions.revealDataFolder(),
      },
      {
        label: "Export Project…",
        accelerator: "CmdOrCtrl+E",
        enabled: input.hasProject,
        click: () => actions.exportProject(),
      },
      { type: "separator" },
      mac ? { role: "close" } : { role: "quit" },
    ],
  };

  return [
    ...(mac
      ? [
          {
            label: input.appName,
            submenu: [
              { role: "about" },
              { type: "separator" },
              { role: "hide" },
              { role: "hideOthers" },
              { role: "unhide" },
              { type: "separator" },
              { role: "quit" },
            ],
          } satisfies MenuItemConstructorOptions,
        ]
      : []),
    file,
    {
      label: "&Edit",
      submenu: [
        { role: "undo" },
        { role: "redo" },
        { type: "separator" },
        { role: "cut" },
        { role: "copy" },
        { role: "paste" },
        { role: "selectAll" },
      ],
    },
    {
      label: "&View",
      submenu: [
        { role: "reload" },
        { type: "separator" },
        { role: "resetZoom" },
        { role: "zoomIn" },
        { role: "zoomOut" },
        { type: "separator" },
        { role: "togglefullscreen" },
      ],
    },
    { role: "windowMenu" },
  ];
}
