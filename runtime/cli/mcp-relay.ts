/**
 * `terrarium mcp` under the supervisor (supervise.ts): the supervisor holds
 * the client's stdio and relays it, line by line (the MCP stdio transport is
 * newline-delimited JSON-RPC), to the engine's process, so that an engine
 * that dies is replaced without the client noticing more than an error on
 * the calls that were in flight.
 *
 * The relay reads only the framing and the JSON-RPC envelope (id, method,
 * result/error), never a tool's arguments or results:
 * - requests the client sent and the engine has not answered are answered,
 *   when the engine dies, with a JSON-RPC error naming what happened (an
 *   MCP client would otherwise wait for them forever);
 * - the session's `initialize` request and `notifications/initialized` are
 *   kept and replayed to each new engine (its answer is dropped: the client
 *   has one), so the session goes on;
 * - what the client sends while no engine runs waits here and is sent to
 *   the next one, after the replay.
 */

type Json = Record<string, unknown>;

/** The id of the replayed initialize request; its answer is the relay's, not the client's. */
const REPLAY_ID = "terrarium-supervisor-replay-initialize";

/** JSON-RPC's "internal error". */
const INTERNAL_ERROR = -32603;

function parse(line: string): Json[] {
  try {
    const v = JSON.parse(line) as unknown;
    const all = Array.isArray(v) ? v : [v];
    return all.filter((m): m is Json => typeof m === "object" && m !== null);
  } catch {
    return [];
  }
}

function key(id: unknown): string {
  return JSON.stringify(id);
}

export class McpRelay {
  readonly #toClient: (line: string) => void;
  #toEngine: ((line: string) => void) | null = null;
  /** Requests from the client without an answer yet, by id. */
  readonly #pending = new Map<string, unknown>();
  /** Lines from the client while no engine takes them. */
  #waiting: string[] = [];
  #initialize: string | null = null;
  #initialized: string | null = null;
  #clientPartial = "";
  #enginePartial = "";

  constructor(toClient: (line: string) => void) {
    this.#toClient = toClient;
  }

  /** Bytes from the client's stdin. */
  fromClient(chunk: string): void {
    const lines = (this.#clientPartial + chunk).split("\n");
    this.#clientPartial = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === "") continue;
      for (const m of parse(line)) {
        if (typeof m.method === "string" && "id" in m) {
          this.#pending.set(key(m.id), m.id);
          if (m.method === "initialize") this.#initialize = line;
        } else if (m.method === "notifications/initialized") this.#initialized = line;
      }
      if (this.#toEngine) this.#toEngine(line);
      else this.#waiting.push(line);
    }
  }

  /** Bytes from the engine's stdout; the client gets every line but the answer to a replay. */
  fromEngine(chunk: string): void {
    const lines = (this.#enginePartial + chunk).split("\n");
    this.#enginePartial = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === "") continue;
      const msgs = parse(line);
      let replayAnswer = false;
      for (const m of msgs) {
        if (typeof m.method === "string" || !("id" in m)) continue;
        if (m.id === REPLAY_ID) replayAnswer = true;
        else this.#pending.delete(key(m.id));
      }
      if (!replayAnswer) this.#toClient(line);
    }
  }

  /**
   * A new engine takes the lines: the session's initialize and initialized
   * first (when the client had sent them), then what waited.
   */
  attach(toEngine: (line: string) => void, restarted: boolean): void {
    this.#toEngine = toEngine;
    this.#enginePartial = "";
    if (restarted && this.#initialize !== null) {
      const init = JSON.parse(this.#initialize) as Json;
      toEngine(JSON.stringify({ ...init, id: REPLAY_ID }));
      if (this.#initialized !== null) toEngine(this.#initialized);
    }
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const line of waiting) toEngine(line);
  }

  /** The engine died: every request it had not answered is answered with `why`. */
  detach(why: string): void {
    this.#toEngine = null;
    this.#enginePartial = "";
    // Requests that wait here were never seen by an engine: the next one answers them.
    const waiting = new Set<string>();
    for (const line of this.#waiting) for (const m of parse(line)) if ("id" in m) waiting.add(key(m.id));
    for (const [k, id] of this.#pending) {
      if (waiting.has(k)) continue;
      this.#pending.delete(k);
      this.#toClient(JSON.stringify({ jsonrpc: "2.0", id, error: { code: INTERNAL_ERROR, message: why } }));
    }
  }

  /** Requests sent and not answered (for tests and the stop line). */
  get pending(): number {
    return this.#pending.size;
  }
}
