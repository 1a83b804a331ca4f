import type {
  BridgeReply,
  BridgeRequest,
  ControlApi,
  ControlMethod,
  LiveEvent,
} from "../../../runtime/api/contract.ts";

export type ConnectionStatus = "connecting" | "open" | "lost";

/** An error the engine (or the bridge) answered a call with. */
export class RemoteError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export interface SocketClient {
  readonly api: ControlApi;
  readonly status: ConnectionStatus;
  onStatus(fn: (s: ConnectionStatus) => void): () => void;
  close(): void;
}

const RECONNECT_MS = 1_000;

/** Methods that resolve with nothing: the bridge sends null, which JSON can carry. */
const VOID: ReadonlySet<string> = new Set(["clearRequestHistory"] satisfies ControlMethod[]);

/**
 * The control API over the web bridge's WebSocket. Calls made while the
 * socket is (re)connecting wait for it; calls in flight when it drops fail.
 * It reconnects on its own, and resubscribes the live stream if anyone
 * listens.
 */
export function createSocketClient(url: string): SocketClient {
  let ws: WebSocket | null = null;
  let status: ConnectionStatus = "connecting";
  let closed = false;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const queue: string[] = [];
  const liveListeners = new Set<(batch: LiveEvent[]) => void>();
  const statusListeners = new Set<(s: ConnectionStatus) => void>();

  const setStatus = (s: ConnectionStatus): void => {
    if (s === status) return;
    status = s;
    for (const fn of statusListeners) fn(s);
  };

  const send = (m: BridgeRequest): void => {
    const text = JSON.stringify(m);
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
    else queue.push(text);
  };

  const onReply = (m: BridgeReply): void => {
    switch (m.type) {
      case "result": {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(new RemoteError(m.error.name, m.error.message));
        return;
      }
      case "events":
        for (const fn of liveListeners) fn(m.batch);
        return;
      case "dropped":
        for (const fn of liveListeners) fn([{ type: "problem", data: droppedProblem(m.count) }]);
        return;
      case "refused":
        console.error(`terrarium: the bridge refused a message: ${m.reason}`);
        return;
    }
  };

  const open = (): void => {
    if (closed) return;
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      setStatus("open");
      if (liveListeners.size > 0) socket.send(JSON.stringify({ type: "subscribe" } satisfies BridgeRequest));
      for (const text of queue.splice(0)) socket.send(text);
    };
    socket.onmessage = (e: MessageEvent<string>) => onReply(JSON.parse(e.data) as BridgeReply);
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      for (const p of pending.values())
        p.reject(new RemoteError("ConnectionLost", "the connection to Terrarium was lost"));
      pending.clear();
      if (closed) return;
      setStatus("lost");
      setTimeout(open, RECONNECT_MS);
    };
  };

  const call = (method: ControlMethod, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      // JSON has no `undefined`: trailing optional arguments are dropped so they parse.
      while (args.length > 0 && args[args.length - 1] === undefined) args = args.slice(0, -1);
      send({ type: "call", id, method, args });
    });

  const subscribe = (listener: (batch: LiveEvent[]) => void): (() => void) => {
    // When the socket is not open yet, onopen subscribes for every listener.
    if (liveListeners.size === 0 && ws?.readyState === WebSocket.OPEN) send({ type: "subscribe" });
    liveListeners.add(listener);
    return () => {
      liveListeners.delete(listener);
      if (liveListeners.size === 0 && ws?.readyState === WebSocket.OPEN) send({ type: "unsubscribe" });
    };
  };

  // Every property but `subscribe` is a method call over the socket: a method
  // the contract gains needs no change here (the bridge validates the name).
  // NOTE: `then` is undefined so the object is not mistaken for a promise.
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const api = new Proxy({} as ControlApi, {
    get(_target, name) {
      if (name === "subscribe") return subscribe;
      if (typeof name !== "string" || name === "then") return undefined;
      let fn = methods.get(name);
      if (!fn) {
        const method = name as ControlMethod;
        fn = (...args: unknown[]) =>
          call(method, args).then((v) => (v === null && VOID.has(method) ? undefined : v));
        methods.set(name, fn);
      }
      return fn;
    },
  });

  open();
  return {
    api,
    get status() {
      return status;
    },
    onStatus(fn) {
      statusListeners.add(fn);
      return () => statusListeners.delete(fn);
    },
    close() {
      closed = true;
      ws?.close();
    },
  };
}

function droppedProblem(count: number) {
  return {
    time: Date.now(),
    message: `${count} live events were dropped (the page read too slowly); views reload`,
    objectId: null,
  };
}
