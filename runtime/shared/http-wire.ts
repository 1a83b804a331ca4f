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
