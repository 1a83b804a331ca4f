import type { HostGlobals, TerrariumBridge } from "../../electron/bridge.ts";

/** The desktop app's preload bridge, or undefined when the UI runs in a plain browser (the web twin). */
export function hostBridge(): TerrariumBridge | undefined {
  return (window as Window & HostGlobals).terrarium;
}
