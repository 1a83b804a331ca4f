import type { ControlApi, HostGlobals } from "../../../runtime/api/contract.ts";
import { createSocketClient, type ConnectionStatus } from "./socket-client.ts";

export interface Connection {
  readonly api: ControlApi;
  /** "desktop" inside Electron (the preload's API), "browser" over the web bridge. */
  readonly host: "desktop" | "browser";
  readonly hostLabel: string;
  onStatus(fn: (s: ConnectionStatus) => void): () => void;
  readonly status: ConnectionStatus;
}

/**
 * The one way the renderer reaches the engine. Inside Electron the preload
 * has put the control API on `window.terrarium`; in a browser (the web twin)
 * the page talks to the bridge that served it, with the token from its URL.
 */
export function connect(): Connection {
  const bridge = (window as Window & HostGlobals).terrarium;
  if (bridge) {
    return {
      api: bridge.api,
      host: "desktop",
      hostLabel: `Desktop · Electron ${bridge.versions.electron}`,
      status: "open",
      onStatus: () => () => undefined,
    };
  }
  const token = new URLSearchParams(window.location.search).get("token") ?? "";
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const client = createSocketClient(
    `${scheme}//${window.location.host}/api?token=${encodeURIComponent(token)}`,
  );
  return {
    api: client.api,
    host: "browser",
    hostLabel: `Browser · ${window.location.host}`,
    get status() {
      return client.status;
    },
    onStatus: (fn) => client.onStatus(fn),
  };
}
