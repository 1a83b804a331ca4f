import { create } from "zustand";
import type { ControlApi, ProjectInfo } from "../../../runtime/api/contract.ts";
import type { Connection } from "../api/control.ts";
import type { ConnectionStatus } from "../api/socket-client.ts";

// The connection store: the engine's control API, whether it is reachable,
// and the project it runs. Every other store reaches the engine through api().

export interface ConnectionState {
  readonly connection: Connection | null;
  readonly status: ConnectionStatus;
  readonly project: ProjectInfo | null;
  readonly error: string | null;
  readonly attach: (c: Connection) => () => void;
}

export const useConnectionStore = create<ConnectionState>()((set) => ({
  connection: null,
  status: "connecting",
  project: null,
  error: null,
  attach: (connection) => {
    set({ connection, status: connection.status });
    const load = (): void => {
      connection.api.project().then(
        (project) => set({ project, error: null }),
        (e: unknown) => set({ error: e instanceof Error ? e.message : String(e) }),
      );
    };
    load();
    return connection.onStatus((status) => {
      set({ status });
      if (status === "open") load();
    });
  },
}));

export function api(): ControlApi {
  const c = useConnectionStore.getState().connection;
  if (!c) throw new Error("renderer: not connected to the engine yet");
  return c.api;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
