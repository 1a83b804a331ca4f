import WebSocket from "ws";

/** A WebSocket conversation in a request script: `{ "method": "WS", "path": ..., "send": [...] }`. */
export interface WsStep {
  readonly method: "WS";
  readonly path: string;
  /** Each message is sent after the replies to the previous one arrived. */
  readonly send: readonly (string | { binary: number[] })[];
  /** Replies to wait for after each message (default 1; 0 for none); with `burst`, in all. */
  readonly replies?: number;
  /** Send every message at once on open, then wait for `replies` replies before closing. */
  readonly burst?: boolean;
  /**
   * For a close the server may leave unanswered: how long to wait for the
   * answer to the client's close frame before recording `"no answer"` and
   * dropping the connection (without it, the step waits up to 10 s).
   */
  readonly closeWait?: number;
}

export interface WsTranscript {
  status: number;
  contentType: "websocket";
  body: {
    received: (string | { binary: number[] })[];
    close: { code: number; reason: string } | "no answer" | null;
  };
}

/** Runs one conversation; the transcript is what gets compared between runtimes. */
export function runWsStep(baseUrl: string, step: WsStep): Promise<WsTranscript> {
  const url = new URL(step.path, baseUrl.replace(/^http/, "ws"));
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const received: (string | { binary: number[] })[] = [];
    let waiting = 0;
    let next = 0;
    let close: WsTranscript["body"]["close"] = null;
    const closeClient = (): void => {
      ws.close(1000, "done");
      if (step.closeWait === undefined) return;
      setTimeout(() => {
        if (close !== null) return;
        close = "no answer";
        clearTimeout(timer);
        ws.terminate();
        resolve({ status: 101, contentType: "websocket", body: { received, close } });
      }, step.closeWait);
    };
    const timer = setTimeout(() => {
      ws.terminate();
      resolve({
        status: 101,
        contentType: "websocket",
        body: { received: [...received, "<timed out>"], close },
      });
    }, 10_000);
    const pump = (): void => {
      if (step.burst) {
        if (next === 0) {
          waiting = step.replies ?? step.send.length;
          for (const m of step.send) ws.send(typeof m === "string" ? m : Buffer.from(m.binary));
          next = step.send.length;
        }
        if (waiting <= 0) closeClient();
        return;
      }
      if (waiting > 0) return;
      const m = step.send[next++];
      if (m === undefined) {
        closeClient();
        return;
      }
      waiting = step.replies ?? 1;
      ws.send(typeof m === "string" ? m : Buffer.from(m.binary));
      if (waiting === 0) setTimeout(pump, 50);
    };
    ws.on("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      resolve({ status: res.statusCode ?? 0, contentType: "websocket", body: { received: [], close: null } });
    });
    ws.on("open", pump);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      received.push(isBinary ? { binary: [...data] } : data.toString());
      waiting--;
      pump();
    });
    ws.on("close", (code, reason) => {
      if (close === "no answer") return;
      close = { code, reason: reason.toString() };
      clearTimeout(timer);
      resolve({ status: 101, contentType: "websocket", body: { received, close } });
    });
    ws.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
