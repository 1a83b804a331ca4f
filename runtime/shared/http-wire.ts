/**
 * What crosses between the orchestrator (main thread) and a worker thread.
 * Requests and responses travel as plain structured-cloneable records with
 * their bodies as transferable ArrayBuffers.
 */
export interface SerializedRequest {
  url: string;
  method: string;
  headers: [string, string][];
  body: ArrayBuffer | null;
}

export interface SerializedResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: ArrayBuffer | null;
  /**
   * A body the code streams (a Response made from a ReadableStream, such as
   * Server-Sent Events): moved to the receiving thread (body is null then),
   * so chunks reach the client as they are written, and the client going
   * away cancels it where it is written.
   */
  stream?: ReadableStream<Uint8Array>;
  /** With status 101: the socket the response hands to the client. */
  webSocket?: SocketInfo;
}

export interface SocketInfo {
  id: string;
  /** Accepted by the object before it answered (ctx.acceptWebSocket or ws.accept()). */
  accepted: boolean;
  hibernatable: boolean;
  tags: string[];
  /** Whether the runtime answers the client's close frame itself (host/websocket.ts autoRepliesToClose). */
  autoReplyToClose?: boolean;
}
