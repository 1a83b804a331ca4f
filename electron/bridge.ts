// What the preload and Electron main share: the key of the object the preload
// puts on `window`, and the IPC channels between them. The object's type is
// the control API's, from the one contract (runtime/api/contract.ts), which is
// all the renderer imports.
import type { HostGlobals } from "../runtime/api/contract.ts";

export type { HostGlobals, TerrariumBridge } from "../runtime/api/contract.ts";

export const BRIDGE_KEY = "terrarium" satisfies keyof HostGlobals;

/** IPC channels. `call` is invoke/handle; the others are one-way messages. */
export const IPC = {
  /** renderer -> main: (method, args) => IpcReply */
  call: "terrarium:call",
  /** renderer -> main: start the live stream for this window */
  subscribe: "terrarium:subscribe",
  /** renderer -> main: stop it */
  unsubscribe: "terrarium:unsubscribe",
  /** main -> renderer: a batch of live events */
  events: "terrarium:events",
} as const;

/** What main answers a call with; the preload turns a failure back into a thrown, named error. */
export type IpcReply = { ok: true; value: unknown } | { ok: false; error: { name: string; message: string } };
