import { create } from "zustand";
import { api } from "./connection.ts";

// The WebSocket console: one client socket to the project's router, as any
// client of the project would open it, and the log of what crossed it.

export type SocketStatus = "closed" | "connecting" | "open";

export interface SocketLogEntry {
  readonly seq: number;
  readonly time: number;
  readonly kind: "sent" | "received" | "info" | "error";
  readonly text: string;
}

export interface SocketConsoleState {
  readonly path: string;
  readonly draft: string;
  readonly status: SocketStatus;
  readonly log: readonly SocketLogEntry[];
  readonly setPath: (path: string) => void;
  readonly setDraft: (draft: string) => void;
  readonly connect: (routerUrl: string) => void;
  readonly disconnect: () => void;
  readonly send: () => void;
  readonly clear: () => void;
}

/** The log keeps the newest entries; a chatty socket does not grow the page without bound. */
const LOG_LIMIT = 2_000;

let socket: WebSocket | null = null;
let seq = 0;

function describe(data: unknown): string {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) {
    const bytes = new Uint8Array(data);
    const hex = Array.from(bytes.slice(0, 32), (b) => b.toString(16).padStart(2, "0")).join(" ");
    return `<binary ${bytes.length} bytes> ${hex}${bytes.length > 32 ? " …" : ""}`;
  }
  return String(data);
}

/**
 * What crossed the socket goes through the engine's secret mask before it
 * is shown (the router's messages never pass through the control API), one
 * after the other so the log keeps their order.
 */
let masking: Promise<void> = Promise.resolve();

export const useSocketConsoleStore = create<SocketConsoleState>()((set, get) => {
  const show = (kind: SocketLogEntry["kind"], text: string): void =>
    set((s) => ({ log: [...s.log, { seq: ++seq, time: Date.now(), kind, text }].slice(-LOG_LIMIT) }));
  const append = (kind: SocketLogEntry["kind"], text: string): void => {
    masking = masking.then(async () => {
      let shown: string;
      try {
        shown = (await api().maskTexts([text]))[0] ?? "";
      } catch {
        shown = kind === "info" ? text : "(not shown: the engine could not check it for secrets)";
      }
      show(kind, shown);
    });
  };

  return {
    path: "/",
    draft: "",
    status: "closed",
    log: [],
    setPath: (path) => set({ path }),
    setDraft: (draft) => set({ draft }),

    connect: (routerUrl) => {
      socket?.close();
      const path = get().path.startsWith("/") ? get().path : `/${get().path}`;
      const url = new URL(path, routerUrl.replace(/^http/, "ws")).href;
      let ws: WebSocket;
      try {
        ws = new WebSocket(url);
      } catch (e) {
        append("error", e instanceof Error ? e.message : String(e));
        return;
      }
      ws.binaryType = "arraybuffer";
      socket = ws;
      set({ status: "connecting" });
      append("info", `connecting to ${url}`);
      ws.onopen = () => {
        if (socket !== ws) return;
        set({ status: "open" });
        append("info", "connected");
      };
      ws.onmessage = (e: MessageEvent) => {
        if (socket === ws) append("received", describe(e.data));
      };
      ws.onerror = () => {
        if (socket === ws)
          append("error", "the connection failed (the upgrade was refused, or the router is down)");
      };
      ws.onclose = (e: CloseEvent) => {
        if (socket !== ws) return;
        socket = null;
        set({ status: "closed" });
        append("info", `closed: ${e.code}${e.reason ? ` ${e.reason}` : ""}`);
      };
    },

    disconnect: () => socket?.close(1000, "closed from the console"),

    send: () => {
      const text = get().draft;
      if (!socket || socket.readyState !== WebSocket.OPEN || text === "") return;
      socket.send(text);
      append("sent", text);
      set({ draft: "" });
    },

    clear: () => set({ log: [] }),
  };
});
