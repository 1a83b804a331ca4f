import * as Comlink from "comlink";
import type { ClientSocketFactory } from "./namespace.ts";
import type { GatewayApi, HeldSocket, SocketEvent, SocketInfo } from "./protocol.ts";
import {
  autoRepliesToClose,
  closeEvent,
  makeWebSocketPairClass,
  messageEvent,
  SOCKET,
  TerrariumWebSocket,
  WebSocketRequestResponsePair,
  type SocketLink,
} from "./websocket.ts";

/**
 * The WebSockets of one worker thread. The connections themselves are held
 * by the orchestrator (so they outlive hibernation); here are the handles:
 * the server ends of the active object (or of the entry Worker), the server
 * ends `new WebSocketPair()` made that nobody accepted yet, and the client
 * ends this thread took from an object's answer and reads itself (a Worker
 * relaying an object's socket, as agents/mcp does). Sends and closes go to
 * the orchestrator through the gateway.
 */
export class WorkerSockets {
  /** Server ends of this worker's WebSockets (the active object's, or the entry's own). */
  readonly #server = new Map<string, TerrariumWebSocket>();
  /** Client ends this thread accepted: sockets an object's fetch answered a stub here with. */
  readonly #clientEnds = new Map<string, TerrariumWebSocket>();
  /** Server ends made by `new WebSocketPair()` in this thread, until they are accepted or dropped. */
  readonly #pendingServerEnds = new Map<string, TerrariumWebSocket>();
  #autoResponse: WebSocketRequestResponsePair | null = null;
  readonly #gateway: Comlink.Remote<GatewayApi>;
  readonly #link: SocketLink;
  /** The loaded code's compatibility date and flags (whether a client's close is answered at once). */
  #compatibility: { date: string; flags: readonly string[] } = { date: "", flags: [] };
  /** A client end for a socket another object answered this thread with (DurableObjectNamespace). */
  readonly clientSocket: ClientSocketFactory;
  /** The output gate: run before a message or a close leaves (commits what the object wrote before it). */
  beforeOutput: () => void = () => {};

  constructor(gateway: Comlink.Remote<GatewayApi>) {
    this.#gateway = gateway;
    this.#link = {
      send: (id, data) => {
        this.beforeOutput();
        void gateway.wsSend(id, data instanceof ArrayBuffer ? Comlink.transfer(data, [data]) : data);
      },
      close: (id, code, reason) => {
        this.beforeOutput();
        void gateway.wsClose(id, code, reason);
      },
      accept: (id, info) =>
        void gateway.wsAccept(id, {
          hibernatable: info.hibernatable,
          tags: info.tags,
          autoReplyToClose: this.#autoRepliesToClose(info),
        }),
      attach: (id, value) => void gateway.wsAttach(id, value),
    };
    const clientEnds = this.#clientEnds;
    this.clientSocket = (id) => {
      const ws: TerrariumWebSocket = new TerrariumWebSocket(id, "client", {
        accept: () => {
          clientEnds.set(id, ws);
          void gateway.wsHold(id);
        },
        send: (_id, data) =>
          void gateway.wsClientSend(id, data instanceof ArrayBuffer ? Comlink.transfer(data, [data]) : data),
        close: (_id, code, reason) => void gateway.wsClientClose(id, code, reason),
        attach: () => {},
      });
      return ws;
    };
  }

  /** The code this worker loaded: its compatibility date and flags decide how a client's close is answered. */
  setCompatibility(date: string, flags: readonly string[]): void {
    this.#compatibility = { date, flags };
  }

  #autoRepliesToClose(socket: { hibernatable: boolean; allowHalfOpen?: boolean }): boolean {
    return autoRepliesToClose(this.#compatibility.date, this.#compatibility.flags, socket);
  }

  /** The `WebSocketPair` global: ws.accept() (the standard API) registers the server end here as well. */
  pairClass(): ReturnType<typeof makeWebSocketPairClass> {
    const link = this.#link;
    const pairLink: SocketLink = {
      ...link,
      accept: (id, info) => {
        const ws = this.#pendingServerEnds.get(id);
        if (ws) this.#server.set(id, ws);
        link.accept(id, info);
      },
    };
    return makeWebSocketPairClass(pairLink, (server) =>
      this.#pendingServerEnds.set(server[SOCKET].id, server),
    );
  }

  /** An object takes over: the hibernatable sockets the orchestrator held for it while it slept. */
  restore(held: HeldSocket[]): void {
    this.#server.clear();
    this.#autoResponse = null;
    for (const h of held) {
      const ws = new TerrariumWebSocket(h.id, "server", this.#link);
      Object.assign(ws[SOCKET], {
        accepted: true,
        hibernatable: true,
        tags: h.tags,
        attachment: h.attachment,
        autoResponseAt: h.autoResponseAt,
      });
      this.#server.set(h.id, ws);
    }
  }

  /** The object left this worker: its handles go (the orchestrator keeps the connections). */
  clear(): void {
    this.#server.clear();
    this.#pendingServerEnds.clear();
    this.#clientEnds.clear();
    this.#autoResponse = null;
  }

  /** The WebSocket hibernation API of an object's `ctx`. */
  ctxMembers() {
    const gateway = this.#gateway;
    return {
      acceptWebSocket: (ws: TerrariumWebSocket, tags: string[] = []) => {
        if (!(ws instanceof TerrariumWebSocket) || ws[SOCKET].role !== "server") {
          throw new TypeError("acceptWebSocket() takes the server end of a WebSocketPair.");
        }
        const s = ws[SOCKET];
        if (s.accepted) throw new TypeError("The WebSocket has already been accepted.");
        if (tags.length > 10) throw new RangeError("A WebSocket can have at most 10 tags.");
        s.accepted = true;
        s.hibernatable = true;
        s.tags = tags.map(String);
        this.#server.set(s.id, ws);
        this.#link.accept(s.id, { hibernatable: true, tags: s.tags });
      },
      getWebSockets: (tag?: string) =>
        [...this.#server.values()].filter(
          (ws) =>
            ws[SOCKET].hibernatable &&
            (ws[SOCKET].readyState <= 1 || (ws[SOCKET].closeReceived && !ws[SOCKET].closeSent)) &&
            (tag === undefined || ws[SOCKET].tags.includes(tag)),
        ),
      getTags: (ws: TerrariumWebSocket) => {
        if (!(ws instanceof TerrariumWebSocket) || !ws[SOCKET].hibernatable)
          throw new TypeError("getTags() takes a hibernatable WebSocket.");
        return [...ws[SOCKET].tags];
      },
      setWebSocketAutoResponse: (pair?: WebSocketRequestResponsePair) => {
        this.#autoResponse = pair ?? null;
        void gateway.wsAutoResponse(pair ? { request: pair.request, response: pair.response } : null);
      },
      getWebSocketAutoResponse: () => this.#autoResponse,
      getWebSocketAutoResponseTimestamp: (ws: TerrariumWebSocket) =>
        ws instanceof TerrariumWebSocket && ws[SOCKET].autoResponseAt !== null
          ? new Date(ws[SOCKET].autoResponseAt)
          : null,
      setHibernatableWebSocketEventTimeout: (_ms?: number) => {},
      getHibernatableWebSocketEventTimeout: () => null,
    };
  }

  /** What the orchestrator needs to know of the socket a 101 response hands it (its client end). */
  info(client: TerrariumWebSocket): SocketInfo {
    const id = client[SOCKET].id;
    const server = this.#server.get(id) ?? this.#pendingServerEnds.get(id);
    this.#pendingServerEnds.delete(id);
    const s = server?.[SOCKET];
    if (server && !this.#server.has(id) && s?.accepted) this.#server.set(id, server);
    return {
      id,
      accepted: s?.accepted ?? false,
      hibernatable: s?.hibernatable ?? false,
      tags: s?.tags ?? [],
      ...(s?.accepted ? { autoReplyToClose: this.#autoRepliesToClose(s) } : {}),
    };
  }

  /**
   * Delivers an event to its socket: a hibernatable one's to the object's
   * handler (`webSocketMessage`, `webSocketClose`, `webSocketError`, then
   * `afterHandler`), any other as an event its listeners get.
   */
  async deliver(
    e: SocketEvent,
    instance: Record<string, unknown> | undefined,
    afterHandler: () => void,
  ): Promise<void> {
    const ws = this.#server.get(e.id) ?? this.#clientEnds.get(e.id);
    if (!ws) return;
    if (e.type === "close") {
      const s = ws[SOCKET];
      // Unanswered (replied false): CLOSING until ws.close(), which answers the client.
      if (e.replied === false && !s.closeSent) {
        s.closeReceived = true;
        s.readyState = 2;
      } else s.readyState = 3;
    }
    try {
      await this.#handle(ws, e, instance, afterHandler);
    } finally {
      // The socket is in getWebSockets() while its close handler runs, not after (as on workerd).
      if (e.type === "close") {
        this.#server.delete(e.id);
        this.#clientEnds.delete(e.id);
      }
    }
  }

  async #handle(
    ws: TerrariumWebSocket,
    e: SocketEvent,
    instance: Record<string, unknown> | undefined,
    afterHandler: () => void,
  ): Promise<void> {
    if (e.type === "message" && e.autoResponseAt !== undefined) ws[SOCKET].autoResponseAt = e.autoResponseAt;
    if (ws[SOCKET].hibernatable && instance) {
      const handler =
        e.type === "message"
          ? instance.webSocketMessage
          : e.type === "close"
            ? instance.webSocketClose
            : instance.webSocketError;
      if (typeof handler !== "function") return;
      if (e.type === "message")
        await (handler as (w: unknown, m: unknown) => unknown).call(instance, ws, e.data);
      else if (e.type === "close")
        await (handler as (w: unknown, c: number, r: string, cl: boolean) => unknown).call(
          instance,
          ws,
          e.code,
          e.reason,
          e.wasClean,
        );
      else await (handler as (w: unknown, err: unknown) => unknown).call(instance, ws, new Error(e.message));
      afterHandler();
      return;
    }
    if (e.type === "message") ws.dispatchEvent(messageEvent(e.data));
    else if (e.type === "close") ws.dispatchEvent(closeEvent(e.code, e.reason, e.wasClean));
    else ws.dispatchEvent(Object.assign(new Event("error"), { message: e.message }));
  }
}
