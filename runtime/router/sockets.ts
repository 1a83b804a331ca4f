import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { serialize } from "node:v8";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { HeldSocket, SocketEvent, SocketInfo } from "../host/protocol.ts";
import type { ObjectSockets, SocketOwner } from "../lifecycle/sockets.ts";

export type { SocketOwner } from "../lifecycle/sockets.ts";

interface HubSocket {
  id: string;
  owner: SocketOwner;
  ws: WebSocket | null;
  accepted: boolean;
  hibernatable: boolean;
  tags: string[];
  attachment: unknown;
  /** The attachment's size as structured-clone data (Cloudflare allows 2,048 bytes), 0 when none. */
  attachmentBytes: number;
  /** When a response handed the socket out. */
  openedAt: number;
  /** Messages from the client, and sent to it (auto-responses included). */
  received: number;
  sent: number;
  /** Sends made before the client finished its upgrade. */
  outbox: (string | Buffer)[];
  /**
   * The worker holding the client end, when a Worker (or another object)
   * accepted the socket a stub's fetch returned instead of handing it to
   * an HTTP client: it gets the owner's sends and close as socket events.
   */
  holder: { target: SocketOwner; chain: Promise<void> } | null;
  /**
   * Events to this socket's owner are handed over one after another, in
   * order: each once the one before it is on its way to the owner's worker
   * (which may mean after the object started).
   */
  chain: Promise<void>;
  /** Settles when every event handed over so far has been handled. */
  handled: Promise<void>;
  closeRequested: { code: number | undefined; reason: string | undefined } | null;
  /**
   * Whether the client's close frame is answered at once (the owner's code
   * decides: host/websocket.ts autoRepliesToClose); if not, the owner's
   * ws.close() answers it.
   */
  autoReplyToClose: boolean;
  /** The client's close frame arrived and waits for the owner's ws.close() (autoReplyToClose false). */
  closeReceived: boolean;
  /** ws's own close(), which sends a close frame (s.ws.close holds back ws's automatic answer). */
  closeWs: ((code?: number, reason?: string) => void) | null;
  /** When the hub last answered this socket's auto-response request (ms since the epoch). */
  autoResponseAt: number | null;
}

export interface SocketSummary {
  id: string;
  objectId: string | null;
  hibernatable: boolean;
  tags: string[];
  open: boolean;
  /** Accepted by its owner (ctx.acceptWebSocket or ws.accept()). */
  accepted: boolean;
  openedAt: number;
  /** Size of serializeAttachment()'s value as structured-clone data; 0 when none. */
  attachmentBytes: number;
  received: number;
  sent: number;
}

function bufferData(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function attachmentSize(value: unknown): number {
  try {
    return serialize(value).byteLength;
  } catch {
    return 0;
  }
}

/** Hands one socket event to its owner's worker (see SocketHub's constructor). */
export type SocketDelivery = (owner: SocketOwner, e: SocketEvent, dispatched: () => void) => Promise<void>;

/**
 * The WebSockets of every object, held by the orchestrator so that a
 * hibernatable socket stays connected while its object's worker is gone.
 * Messages from a client wake the object and reach `webSocketMessage` (or
 * the standard API's listeners); auto-responses are answered here without
 * waking anything.
 */
export class SocketHub implements ObjectSockets {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  readonly #sockets = new Map<string, HubSocket>();
  readonly #byObject = new Map<string, Set<string>>();
  readonly #autoResponses = new Map<string, { request: string; response: string }>();
  /**
   * Delivers one event to the socket's owner, calling `dispatched` once the
   * event is on its way to the owner's worker (the next event follows it
   * there, so the worker gets them in order), and settling once the handler
   * is done.
   */
  readonly #deliver: SocketDelivery;
  /** Logs a delivery that failed. */
  readonly #onError: (owner: SocketOwner, message: string) => void;
  readonly #now: () => number;

  constructor(
    opts: {
      now?: () => number;
      deliver?: SocketDelivery;
      onError?: (owner: SocketOwner, message: string) => void;
    } = {},
  ) {
    this.#now = opts.now ?? Date.now;
    this.#deliver = opts.deliver ?? (() => Promise.resolve());
    this.#onError = opts.onError ?? (() => {});
  }

  /** Records who owns a socket a 101 response handed out (the first claim wins). */
  claim(info: SocketInfo, owner: SocketOwner): void {
    const existing = this.#sockets.get(info.id);
    if (existing) {
      if (info.accepted) {
        existing.accepted = true;
        existing.hibernatable ||= info.hibernatable;
        if (info.tags.length) existing.tags = info.tags;
        if (info.autoReplyToClose !== undefined) existing.autoReplyToClose = info.autoReplyToClose;
      }
      return;
    }
    this.#sockets.set(info.id, {
      id: info.id,
      owner,
      ws: null,
      accepted: info.accepted,
      hibernatable: info.hibernatable,
      tags: info.tags,
      attachment: undefined,
      attachmentBytes: 0,
      openedAt: this.#now(),
      received: 0,
      sent: 0,
      outbox: [],
      holder: null,
      chain: Promise.resolve(),
      handled: Promise.resolve(),
      closeRequested: null,
      autoReplyToClose: info.autoReplyToClose ?? true,
      closeReceived: false,
      closeWs: null,
      autoResponseAt: null,
    });
    if (owner.kind === "object") {
      let set = this.#byObject.get(owner.objectId);
      if (!set) this.#byObject.set(owner.objectId, (set = new Set()));
      set.add(info.id);
    }
  }

  /** ctx.acceptWebSocket / ws.accept() from a worker. */
  accepted(
    id: string,
    owner: SocketOwner | null,
    info: { hibernatable: boolean; tags: string[]; autoReplyToClose?: boolean },
  ): void {
    const s = this.#sockets.get(id);
    if (s) {
      s.accepted = true;
      s.hibernatable = info.hibernatable;
      s.tags = info.tags;
      if (info.autoReplyToClose !== undefined) s.autoReplyToClose = info.autoReplyToClose;
    } else if (owner) {
      this.claim({ id, accepted: true, ...info }, owner);
    }
  }

  attach(id: string, value: unknown): void {
    const s = this.#sockets.get(id);
    if (!s) return;
    s.attachment = value;
    s.attachmentBytes = value === undefined || value === null ? 0 : attachmentSize(value);
  }

  setAutoResponse(objectId: string, pair: { request: string; response: string } | null): void {
    if (pair) this.#autoResponses.set(objectId, pair);
    else this.#autoResponses.delete(objectId);
  }

  send(id: string, data: string | ArrayBuffer): void {
    const s = this.#sockets.get(id);
    if (!s) return;
    if (s.holder) {
      s.sent++;
      this.#toHolder(s, { type: "message", id, data });
      return;
    }
    const payload = typeof data === "string" ? data : Buffer.from(data);
    s.sent++;
    if (!s.ws) s.outbox.push(payload);
    else if (s.ws.readyState === 1) s.ws.send(payload);
  }

  close(id: string, code: number | undefined, reason: string | undefined): void {
    const s = this.#sockets.get(id);
    if (!s) return;
    if (s.holder) {
      // The holder's end answers the close, as a WebSocket client does.
      this.#closeHeld(s, code, reason);
      return;
    }
    if (!s.ws) {
      s.closeRequested = { code, reason };
      return;
    }
    this.#closeWs(s, code, reason);
  }

  /**
   * Sends a close frame (answering the client's, when it waits for one).
   * Without a code the frame carries none, as workerd's `ws.close()` sends
   * it: the client reads 1005.
   */
  #closeWs(s: HubSocket, code: number | undefined, reason: string | undefined): void {
    if (s.closeWs) s.closeWs(code, reason);
    else s.ws?.close(code, reason);
  }

  /**
   * The object hibernated: a hibernatable socket whose client's close it
   * left unanswered is dropped (workerd drops it when it evicts the object:
   * the client sees 1006); the others stay connected.
   */
  hibernated(objectId: string): void {
    for (const id of [...(this.#byObject.get(objectId) ?? [])]) {
      const s = this.#sockets.get(id);
      if (s?.closeReceived && s.ws) s.ws.terminate();
    }
  }

  /** A worker accepted the client end of socket `id` (see HubSocket.holder). */
  hold(id: string, target: SocketOwner): void {
    const s = this.#sockets.get(id);
    if (!s || s.ws || s.holder) return;
    s.holder = { target, chain: Promise.resolve() };
    for (const m of s.outbox) {
      this.#toHolder(s, { type: "message", id, data: typeof m === "string" ? m : bufferData(m) });
    }
    s.outbox = [];
    if (s.closeRequested) this.close(id, s.closeRequested.code, s.closeRequested.reason);
  }

  /** The holder of a client end sent a message: it reaches the owner as a client's would. */
  clientSend(id: string, data: string | ArrayBuffer): void {
    const s = this.#sockets.get(id);
    if (!s?.holder) return;
    s.received++;
    this.#enqueue(s, { type: "message", id, data });
  }

  /** The holder of a client end closed it: the owner sees the close, and the holder the answer. */
  clientClose(id: string, code: number | undefined, reason: string | undefined): void {
    const s = this.#sockets.get(id);
    if (!s?.holder) return;
    this.#closeHeld(s, code, reason);
  }

  /**
   * Ends a held socket, whichever side closed: the owner's close event
   * first, then the holder's once the owner has handled it (what the
   * holder does next, such as calling the object, comes after it, as on
   * workerd, where the object's close event is already queued by then).
   */
  #closeHeld(s: HubSocket, code: number | undefined, reason: string | undefined): void {
    const e = { type: "close", id: s.id, code: code ?? 1005, reason: reason ?? "", wasClean: true } as const;
    this.#enqueue(s, e);
    // s.handled settles once the owner's handler has run (s.chain already when it is on its way).
    void s.chain
      .then(() => s.handled)
      .then(() => {
        this.#toHolder(s, e);
        this.#forget(s);
      });
  }

  #toHolder(s: HubSocket, e: SocketEvent): void {
    const holder = s.holder;
    if (!holder) return;
    holder.chain = holder.chain.then(() =>
      this.#deliver(holder.target, e, () => {}).catch((err: unknown) => {
        this.#onError(
          holder.target,
          `WebSocket ${e.type} to the worker holding the client end failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }),
    );
  }

  /** What an object needs at activation to see its sockets again (getWebSockets, attachments). */
  held(objectId: string): HeldSocket[] {
    const ids = this.#byObject.get(objectId);
    if (!ids) return [];
    const out: HeldSocket[] = [];
    for (const id of ids) {
      const s = this.#sockets.get(id);
      if (s?.hibernatable && s.accepted && !s.closeReceived)
        out.push({ id, tags: s.tags, attachment: s.attachment, autoResponseAt: s.autoResponseAt });
    }
    return out;
  }

  /** True while an object has sockets on the standard API (which keep it from hibernating). */
  pinsObject(objectId: string): boolean {
    const ids = this.#byObject.get(objectId);
    if (!ids) return false;
    for (const id of ids) {
      const s = this.#sockets.get(id);
      if (s && s.accepted && !s.hibernatable) return true;
    }
    return false;
  }

  /** Closes an object's sockets: all of them, or only those on the standard API (after a crash). */
  closeObject(objectId: string, code: number, reason: string, onlyStandard = false): void {
    for (const id of [...(this.#byObject.get(objectId) ?? [])]) {
      const s = this.#sockets.get(id);
      if (!s || (onlyStandard && s.hibernatable)) continue;
      if (s.ws) this.#closeWs(s, code, reason);
      else this.#forget(s);
    }
  }

  list(objectId?: string): SocketSummary[] {
    const all = objectId
      ? [...(this.#byObject.get(objectId) ?? [])].map((id) => this.#sockets.get(id)!)
      : [...this.#sockets.values()];
    return all.filter(Boolean).map((s) => ({
      id: s.id,
      objectId: s.owner.kind === "object" ? s.owner.objectId : null,
      hibernatable: s.hibernatable,
      tags: s.tags,
      open: s.ws?.readyState === 1,
      accepted: s.accepted,
      openedAt: s.openedAt,
      attachmentBytes: s.attachmentBytes,
      received: s.received,
      sent: s.sent,
    }));
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** Completes the HTTP upgrade for a socket a 101 response handed out. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, id: string, headers: [string, string][]): void {
    const s = this.#sockets.get(id);
    if (!s) {
      socket.destroy();
      return;
    }
    const extra = headers.filter(
      ([k]) => !/^(upgrade|connection|sec-websocket-accept|content-length)$/i.test(k),
    );
    const onHeaders = (lines: string[]): void => {
      for (const [k, v] of extra) lines.push(`${k}: ${v}`);
    };
    this.#wss.once("headers", onHeaders);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#wss.off("headers", onHeaders);
      this.#bind(s, ws);
    });
  }

  #bind(s: HubSocket, ws: WebSocket): void {
    s.ws = ws;
    this.#holdCloseAnswer(s, ws);
    for (const m of s.outbox) ws.send(m);
    s.outbox = [];
    if (s.closeRequested) this.#closeWs(s, s.closeRequested.code, s.closeRequested.reason);
    ws.on("message", (raw: RawData, isBinary: boolean) => {
      s.received++;
      const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
      if (!isBinary) {
        const text = buf.toString("utf8");
        const auto =
          s.owner.kind === "object" && s.hibernatable ? this.#autoResponses.get(s.owner.objectId) : undefined;
        if (auto && auto.request === text) {
          s.sent++;
          s.autoResponseAt = this.#now();
          ws.send(auto.response);
          return;
        }
        this.#enqueue(s, { type: "message", id: s.id, data: text, autoResponseAt: s.autoResponseAt });
      } else {
        const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
        this.#enqueue(s, { type: "message", id: s.id, data, autoResponseAt: s.autoResponseAt });
      }
    });
    ws.on("close", (code: number, reason: Buffer) => {
      // The owner had the close event when the client's close frame came (it answered it, or not).
      if (s.closeReceived) {
        void s.chain.then(() => s.handled).then(() => this.#forget(s));
        return;
      }
      this.#enqueue(s, {
        type: "close",
        id: s.id,
        code,
        reason: reason.toString("utf8"),
        wasClean: code !== 1006,
        replied: true,
      });
      void s.chain.then(() => s.handled).then(() => this.#forget(s));
    });
    ws.on("error", (err: Error) => {
      this.#enqueue(s, { type: "error", id: s.id, message: err.message });
    });
  }

  /**
   * ws (8.x) answers a client's close frame by itself: its receiver calls
   * ws.close(code, reason) once the frame is read, before any event. For a
   * socket whose owner answers the close itself (autoReplyToClose false),
   * that call is held back here: the owner gets the close event with the
   * socket CLOSING, and its ws.close() sends the answer (#closeWs). Until
   * then the connection stays half-closed, as on workerd: the owner can
   * still send, and a client that waits too long gives up (1006).
   */
  #holdCloseAnswer(s: HubSocket, ws: WebSocket): void {
    const closeWs = ws.close.bind(ws);
    s.closeWs = closeWs;
    ws.close = (code?: number, reason?: string | Buffer): void => {
      // Set by ws's receiver when the close frame arrived (private to ws 8; the ws-close fidelity projects cover it).
      const frameReceived = (ws as unknown as { _closeFrameReceived?: boolean })._closeFrameReceived === true;
      if (!frameReceived || s.autoReplyToClose || s.closeReceived || ws.readyState !== ws.OPEN) {
        closeWs(code, reason);
        return;
      }
      s.closeReceived = true;
      this.#enqueue(s, {
        type: "close",
        id: s.id,
        code: code ?? 1005,
        reason: reason === undefined ? "" : reason.toString(),
        wasClean: true,
        replied: false,
      });
    };
  }

  /**
   * Hands an event to the owner. As in workerd, the next event does not
   * wait for this one's handler: while a webSocketMessage awaits I/O (a
   * call to another object), the next message's handler runs.
   */
  #enqueue(s: HubSocket, e: SocketEvent): void {
    if (!s.accepted) return;
    s.chain = s.chain.then(
      () =>
        new Promise<void>((dispatched) => {
          const done = this.#deliver(s.owner, e, dispatched)
            .catch((err: unknown) => {
              // Past a stop's grace period, what could not be delivered is in the stop's report.
              if (this.#closing) return;
              this.#onError(
                s.owner,
                `WebSocket ${e.type} handler failed: ${err instanceof Error ? err.message : String(err)}`,
              );
            })
            .finally(dispatched);
          s.handled = Promise.all([s.handled, done]).then(() => undefined);
        }),
    );
  }

  #forget(s: HubSocket): void {
    this.#sockets.delete(s.id);
    if (s.owner.kind === "object") {
      const set = this.#byObject.get(s.owner.objectId);
      set?.delete(s.id);
      if (set && set.size === 0) this.#byObject.delete(s.owner.objectId);
    }
  }

  #closing = false;

  /** Closes every socket (Terrarium stopping): a close frame, then the client's answer ends it. */
  closeAll(code = 1001, reason = "Terrarium stopped"): void {
    this.#closing = true;
    for (const s of this.#sockets.values()) this.#closeWs(s, code, reason);
    this.#wss.close();
  }

  /** Resolves once every connected socket has closed and its owner has been given the close event. */
  async drained(): Promise<void> {
    await Promise.all(
      [...this.#sockets.values()].map(async (s) => {
        const ws = s.ws;
        if (!ws) return;
        if (ws.readyState !== ws.CLOSED) await new Promise((r) => ws.once("close", r));
        await s.chain;
      }),
    );
  }

  /** Ends every socket's connection now, whether or not its client answered the close frame. */
  terminateAll(): void {
    for (const s of this.#sockets.values()) s.ws?.terminate();
  }
}
