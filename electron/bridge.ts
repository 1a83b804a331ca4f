// The object the preload exposes to the renderer as `window.terrarium`.
//
// TODO(api): a placeholder. The real surface is the engine's control API
// (runtime/api), reached over a MessagePort; this type then moves there, so the
// preload and the web bridge are both built from the one contract.

export const BRIDGE_KEY = "terrarium" satisfies keyof HostGlobals;

export interface TerrariumBridge {
  readonly host: "electron";
  readonly versions: Readonly<{ electron: string; chrome: string; node: string }>;
}

/** What the renderer may find on `window`: nothing when it runs in a plain browser (the web twin). */
export interface HostGlobals {
  readonly terrarium?: TerrariumBridge;
}
