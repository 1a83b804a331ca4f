import type { MenuItemConstructorOptions } from "electron";
import { describe, expect, it, vi } from "vitest";
import {
  buildMenuTemplate,
  RECENT_IN_MENU,
  type MenuActions,
  type MenuInput,
} from "../../../electron/menu.ts";

function actions() {
  return {
    newProject: vi.fn<(id: string) => void>(),
    openProject: vi.fn<() => void>(),
    openRecent: vi.fn<(dir: string) => void>(),
    clearRecent: vi.fn<() => void>(),
    revealDataFolder: vi.fn<() => void>(),
    exportProject: vi.fn<() => void>(),
  } satisfies MenuActions;
}

function build(overrides: Partial<MenuInput> = {}) {
  const a = actions();
  const template = buildMenuTemplate({
    platform: "linux",
    appName: "Terrarium",
    templates: [
      { id: "counter", label: "Counter" },
      { id: "aidevos", label: "AIDevOS system" },
    ],
    recent: ["/home/ada/shop", "/home/ada/chat"],
    hasProject: true,
    actions: a,
    ...overrides,
  });
  return { template, actions: a };
}

function submenu(item: MenuItemConstructorOptions | undefined): MenuItemConstructorOptions[] {
  if (!item || !Array.isArray(item.submenu)) throw new Error(`${item?.label ?? "item"} has no submenu`);
  return item.submenu;
}

function find(items: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions {
  const item = items.find((i) => i.label === label);
  if (!item) throw new Error(`no menu item "${label}" in ${items.map((i) => i.label ?? i.role).join(", ")}`);
  return item;
}

/** Clicks a menu item as Electron would. */
function click(item: MenuItemConstructorOptions): void {
  (item.click as () => void)();
}

describe("the application menu", () => {
  it("has File, Edit, View and Window menus (and the app menu on macOS)", () => {
    expect(build().template.map((m) => m.label ?? m.role)).toEqual(["&File", "&Edit", "&View", "windowMenu"]);
    const mac = build({ platform: "darwin" }).template;
    expect(mac.map((m) => m.label ?? m.role)).toEqual(["Terrarium", "&File", "&Edit", "&View", "windowMenu"]);
    expect(
      submenu(mac[0])
        .map((i) => i.role)
        .filter(Boolean),
    ).toContain("quit");
    expect(submenu(find(mac, "&File")).at(-1)?.role).toBe("close");
    expect(submenu(find(build().template, "&File")).at(-1)?.role).toBe("quit");
  });

  it("offers a new project from each template", () => {
    const { template, actions: a } = build();
    const items = submenu(find(submenu(find(template, "&File")), "New Project from Template"));
    expect(items.map((i) => i.label)).toEqual(["Counter…", "AIDevOS system…"]);
    click(items[1]!);
    expect(a.newProject).toHaveBeenCalledWith("aidevos");
  });

  it("opens a project folder, a recent project, and clears the recent list", () => {
    const { template, actions: a } = build();
    const file = submenu(find(template, "&File"));
    const open = find(file, "Open Project Folder…");
    expect(open.accelerator).toBe("CmdOrCtrl+O");
    click(open);
    expect(a.openProject).toHaveBeenCalledOnce();

    const recent = submenu(find(file, "Open Recent"));
    expect(recent.map((i) => i.label ?? i.type)).toEqual([
      "/home/ada/shop",
      "/home/ada/chat",
      "separator",
      "Clear Recently Opened",
    ]);
    click(recent[1]!);
    expect(a.openRecent).toHaveBeenCalledWith("/home/ada/chat");
    click(find(recent, "Clear Recently Opened"));
    expect(a.clearRecent).toHaveBeenCalledOnce();
  });

  it("lists at most the ten most recent projects, and says so when there are none", () => {
    const many = Array.from({ length: 15 }, (_, i) => `/p/${i}`);
    const recent = submenu(find(submenu(find(build({ recent: many }).template, "&File")), "Open Recent"));
    expect(recent.filter((i) => i.label?.startsWith("/p/"))).toHaveLength(RECENT_IN_MENU);
    const none = submenu(find(submenu(find(build({ recent: [] }).template, "&File")), "Open Recent"));
    expect(none).toEqual([{ label: "No Recent Projects", enabled: false }]);
  });

  it("reveals the data folder and exports only while a project is open", () => {
    const { template, actions: a } = build();
    const file = submenu(find(template, "&File"));
    click(find(file, "Reveal Data Folder"));
    click(find(file, "Export Project…"));
    expect(a.revealDataFolder).toHaveBeenCalledOnce();
    expect(a.exportProject).toHaveBeenCalledOnce();
    expect(find(file, "Export Project…").enabled).toBe(true);

    const closed = submenu(find(build({ hasProject: false }).template, "&File"));
    expect(find(closed, "Reveal Data Folder").enabled).toBe(false);
    expect(find(closed, "Export Project…").enabled).toBe(false);
    expect(
      find(submenu(find(build({ platform: "darwin" }).template, "&File")), "Reveal Data Folder in Finder"),
    ).toBeTruthy();
  });

  it("keeps the standard edit roles, so copy and paste work on macOS", () => {
    const edit = submenu(find(build().template, "&Edit"));
    expect(edit.map((i) => i.role).filter(Boolean)).toEqual([
      "undo",
      "redo",
      "cut",
      "copy",
      "paste",
      "selectAll",
    ]);
  });
});
