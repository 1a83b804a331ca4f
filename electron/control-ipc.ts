import type { IpcMainEvent, IpcMainInvokeEvent, WebContents } from "electron";
import type { ControlApi, LiveEvent } from "../runtime/api/contract.ts";
import { bridgeRequestSchema } from "../runtime/api/contract.ts";
import { dispatch, toBridgeError } from "../runtime/api/dispatch.ts";
import { IPC, type IpcReply } from "./bridge.ts";

/** The part of Electron's ipcMain this module uses (a fake in tests). */
export interface IpcMainLike {
  handle(channel: string, fn: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<IpcReply>): void;
  removeHandler(channel: string): void;
  on(channel: string, fn: (event: IpcMainEvent) => void): unknown;
  removeListener(channel: string, fn: (event: IpcMainEvent) => void): unknown;
}

export interface ControlIpcOptions {
  readonly ipcMain: IpcMainLike;
  readonly api: ControlApi;
  /**
   * Whether a message comes from our own page: the top frame of a window
   * Terrarium opened, showing the renderer it loaded. Anything else (a
   * subframe, a page navigated elsewhere) is refused.
   */
  readonly trusted: (sender: WebContents, frameUrl: string | null, isTopFrame: boolean) => boolean;
}

type SenderEvent = Pick<IpcMainInvokeEvent, "sender" | "senderFrame">;

function fromTrustedFrame(opts: ControlIpcOptions, event: SenderEvent): boolean {
  const frame = event.senderFrame;
  return opts.trusted(event.sender, frame?.url ?? null, frame !== null && frame === event.sender.mainFrame);
}

/**
 * Serves the control API to the renderer over IPC: every call is checked
 * for its sender frame and parsed with the contract's schemas (through the
 * same `dispatch` as the web bridge) before it reaches the engine. Returns a
 * function that removes the handlers and ends every live stream.
 */
export function registerControlIpc(opts: ControlIpcOptions): () => void {
  const { ipcMain, api } = opts;
  const streams = new Map<WebContents, () => void>();

  ipcMain.handle(IPC.call, async (event, method, args): Promise<IpcReply> => {
    if (!fromTrustedFrame(opts, event)) {
      return {
        ok: false,
        error: { name: "ForbiddenError", message: "this frame may not use the control API" },
      };
    }
    const parsed = bridgeRequestSchema.safeParse({ type: "call", id: 0, method, args });
    if (!parsed.success || parsed.data.type !== "call") {
      const issue = parsed.success ? undefined : parsed.error.issues[0];
      return {
        ok: false,
        error: {
          name: "ValidationError",
          message: `malformed call: ${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}`,
        },
      };
    }
    try {
      return { ok: true, value: await dispatch(api, parsed.data.method, parsed.data.args) };
    } catch (e) {
      return { ok: false, error: toBridgeError(e) };
    }
  });

  const onSubscribe = (event: IpcMainEvent): void => {
    const sender = event.sender;
    if (!fromTrustedFrame(opts, event) || streams.has(sender)) return;
    const off = api.subscribe((batch: LiveEvent[]) => {
      if (!sender.isDestroyed()) sender.send(IPC.events, batch);
    });
    streams.set(sender, off);
    sender.once("destroyed", () => {
      streams.get(sender)?.();
      streams.delete(sender);
    });
  };
  const onUnsubscribe = (event: IpcMainEvent): void => {
    streams.get(event.sender)?.();
    streams.delete(event.sender);
  };
  ipcMain.on(IPC.subscribe, onSubscribe);
  ipcMain.on(IPC.unsubscribe, onUnsubscribe);

  return () => {
    ipcMain.removeHandler(IPC.call);
    ipcMain.removeListener(IPC.subscribe, onSubscribe);
    ipcMain.removeListener(IPC.unsubscribe, onUnsubscribe);
    for (const off of streams.values()) off();
    streams.clear();
  };
}
