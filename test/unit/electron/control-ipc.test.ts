import type { IpcMainEvent, IpcMainInvokeEvent, WebContents } from "electron";
import { describe, expect, it } from "vitest";
import type { ControlApi, LiveEvent } from "../../../runtime/api/contract.ts";
import { IPC, type IpcReply } from "../../../electron/bridge.ts";
import { registerControlIpc, type IpcMainLike } from "../../../electron/control-ipc.ts";

const ID = "a".repeat(64);
const PAGE = "file:///app/out/renderer/index.html";

// A fake ipcMain, a fake window and a control API that records what reaches it.
function setup() {
  const handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<IpcReply>>();
  const listeners = new Map<string, (event: IpcMainEvent) => void>();
  const ipcMain: IpcMainLike = {
    handle: (channel, fn) => void handlers.set(channel, fn),
    removeHandler: (channel) => void handlers.delete(channel),
    on: (channel, fn) => listeners.set(channel, fn),
    removeListener: (channel) => listeners.delete(channel),
  };
  const sent: unknown[] = [];
  const mainFrame = { url: PAGE };
  const window = {
    mainFrame,
    isDestroyed: () => false,
    send: (_channel: string, batch: unknown) => void sent.push(batch),
    once: () => undefined,
  } as unknown as WebContents;
  const reached: string[] = [];
  let live: ((batch: LiveEvent[]) => void) | null = null;
  const api = {
    getObject: async (id: string) => {
      reached.push(`getObject ${id}`);
      return null;
    },
    project: async () => {
      reached.push("project");
      return { name: "p" };
    },
    subscribe: (fn: (batch: LiveEvent[]) => void) => {
      live = fn;
      return () => (live = null);
    },
  } as unknown as ControlApi;
  const dispose = registerControlIpc({
    ipcMain,
    api,
    trusted: (sender, url, top) => sender === window && top && url === PAGE,
  });
  const event = (frame: { url: string } | null = mainFrame, sender = window) =>
    ({ sender, senderFrame: frame }) as unknown as IpcMainInvokeEvent & IpcMainEvent;
  const call = (args: unknown[], e = event()) => handlers.get(IPC.call)!(e, ...args);
  return { call, event, listeners, sent, reached, handlers, dispose, emit: (b: LiveEvent[]) => live?.(b) };
}

describe("control IPC", () => {
  it("answers a valid call from the app's own page", async () => {
    const t = setup();
    expect(await t.call(["project", []])).toEqual({ ok: true, value: { name: "p" } });
    expect(await t.call(["getObject", [ID]])).toEqual({ ok: true, value: null });
    expect(t.reached).toEqual(["project", `getObject ${ID}`]);
  });

  it.each([
    ["an unknown method", ["eval", ["1+1"]]],
    ["arguments that are not a list", ["project", "x"]],
    ["too many arguments", ["project", [1, 2, 3, 4, 5]]],
    ["an argument the contract refuses", ["getObject", ["../../etc/passwd"]]],
    ["a missing argument", ["getObject", []]],
  ])("refuses a malformed message (%s) before it reaches the engine", async (_what, args) => {
    const t = setup();
    const reply = await t.call(args);
    expect(reply).toMatchObject({ ok: false, error: { name: "ValidationError" } });
    expect(t.reached).toEqual([]);
  });

  it("refuses calls from a subframe, another page or another window", async () => {
    const t = setup();
    const other = { ...t.event().sender, mainFrame: { url: PAGE } } as unknown as WebContents;
    for (const e of [
      t.event({ url: PAGE }), // a frame that is not the main frame
      t.event({ url: "https://evil.example/" }),
      t.event(null),
      t.event(undefined, other),
    ]) {
      expect(await t.call(["project", []], e)).toMatchObject({
        ok: false,
        error: { name: "ForbiddenError" },
      });
    }
    expect(t.reached).toEqual([]);
  });

  it("streams live events to a window that subscribed, until it unsubscribes", () => {
    const t = setup();
    t.listeners.get(IPC.subscribe)!(t.event());
    const batch: LiveEvent[] = [{ type: "problem", data: { time: 1, message: "m", objectId: null } }];
    t.emit(batch);
    expect(t.sent).toEqual([batch]);
    t.listeners.get(IPC.unsubscribe)!(t.event());
    t.emit(batch);
    expect(t.sent).toHaveLength(1);
  });

  it("removes its handlers when disposed", () => {
    const t = setup();
    t.dispose();
    expect(t.handlers.size).toBe(0);
    expect(t.listeners.size).toBe(0);
  });
});
