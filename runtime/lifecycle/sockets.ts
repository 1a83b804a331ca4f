import type { HeldSocket, SocketInfo } from "../host/protocol.ts";
import type { WorkerHost } from "../host/worker-host.ts";

/** Who a WebSocket belongs to: an object (by id), or the entry Worker's thread that answered it. */
export type SocketOwner =
  { kind: "object"; objectId: string; className: string } | { kind: "entry"; host: WorkerHost };

/**
 * What the Lifecycle Manager needs of the WebSockets the Request Router
 * holds (the router's SocketHub implements it): which objects hold sockets,
 * the hibernatable ones a waking object gets back, closing an object's
 * sockets, and the socket calls its workers make through the gateway. So
 * lifecycle stands below the router and never imports it.
 */
export interface ObjectSockets {
  /** Records who owns a socket a 101 response handed out (the first claim wins). */
  claim(info: SocketInfo, owner: SocketOwner): void;
  /** The hibernatable sockets of an object, as its next worker gets them. */
  held(objectId: string): HeldSocket[];
  /** An object's sockets, as far as why-awake needs them (what keeps it awake). */
  list(objectId: string): readonly { accepted: boolean; open: boolean; hibernatable: boolean }[];
  /** Whether an object holds a socket that keeps it from hibernating. */
  pinsObject(objectId: string): boolean;
  closeObject(objectId: string, code: number, reason: string, onlyStandard?: boolean): void;
  /** The object hibernated: drops its sockets whose client's close it left unanswered, as workerd does. */
  hibernated(objectId: string): void;
  accepted(
    id: string,
    owner: SocketOwner | null,
    info: { hibernatable: boolean; tags: string[]; autoReplyToClose?: boolean },
  ): void;
  attach(id: string, value: unknown): void;
  setAutoResponse(objectId: string, pair: { request: string; response: string } | null): void;
  send(id: string, data: string | ArrayBuffer): void;
  close(id: string, code: number | undefined, reason: string | undefined): void;
  hold(id: string, target: SocketOwner): void;
  clientSend(id: string, data: string | ArrayBuffer): void;
  clientClose(id: string, code: number | undefined, reason: string | undefined): void;
}
