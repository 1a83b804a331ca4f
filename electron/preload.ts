import { contextBridge } from "electron";
import { BRIDGE_KEY, type TerrariumBridge } from "./bridge.ts";

// A sandboxed preload: built as one CommonJS bundle with no imports besides
// `electron` (a sandboxed preload cannot load other files), and the only code
// that touches both worlds. The renderer sees a frozen plain object.

const bridge: TerrariumBridge = Object.freeze({
  host: "electron",
  versions: Object.freeze({
    electron: process.versions.electron,
    chrome: process.versions.chrome,
    node: process.versions.node,
  }),
});

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
