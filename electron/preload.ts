import { contextBridge, ipcRenderer, type IpcRendererEvent } from "electron";
import { CONTROL_METHODS, type ControlApi, type LiveEvent } from "../runtime/api/contract.ts";
import { BRIDGE_KEY, IPC, type IpcReply, type TerrariumBridge } from "./bridge.ts";

// A sandboxed preload: built as one CommonJS bundle with no imports besides
// `electron` (a sandboxed preload cannot load other files), and the only code
// that touches both worlds. The renderer sees a frozen object implementing the
// control API; each call is one `invoke` that main validates before it reaches
// the engine.

class RemoteError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

async function call(method: string, args: unknown[]): Promise<unknown> {
  // Structured clone keeps `undefined`, but the schemas treat a trailing one as absent anyway.
  while (args.length > 0 && args[args.length - 1] === undefined) args = args.slice(0, -1);
  const reply = (await ipcRenderer.invoke(IPC.call, method, args)) as IpcReply;
  if (!reply.ok) throw new RemoteError(reply.error.name, reply.error.message);
  return reply.value;
}

const listeners = new Set<(batch: LiveEvent[]) => void>();
ipcRenderer.on(IPC.events, (_event: IpcRendererEvent, batch: LiveEvent[]) => {
  for (const fn of listeners) fn(batch);
});

const api: Record<string, unknown> = {};
for (const method of CONTROL_METHODS) {
  api[method] = (...args: unknown[]) => call(method, args);
}
api["subscribe"] = (listener: (batch: LiveEvent[]) => void) => {
  if (listeners.size === 0) ipcRenderer.send(IPC.subscribe);
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) ipcRenderer.send(IPC.unsubscribe);
  };
};

const bridge: TerrariumBridge = Object.freeze({
  host: "electron",
  versions: Object.freeze({
    electron: process.versions.electron,
    chrome: process.versions.chrome,
    node: process.versions.node,
  }),
  api: Object.freeze(api) as unknown as ControlApi,
});

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
