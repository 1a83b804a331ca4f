/**
 * The load generator proper: sends a plan's requests over HTTP (and, for
 * the web client, WebSockets) and measures them. It runs in a process of
 * its own (generator.worker.ts), never on the orchestrator's thread, and
 * reports once a second and once at the end.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import WebSocket from "ws";
import { Histogram, type HistogramJson } from "./histogram.ts";
import { keySource, seededRandom, weightedPicker, type KeySource, type Random } from "./keys.ts";
import { compileTemplate, renderTemplate, type Template } from "../shared/grammar.ts";
import type { LoadPlan } from "./profile.ts";
import { Arrivals, levelAt, OpenScheduler, type TimerClock } from "./schedule.ts";

/**
 * Why a request did not succeed. http_4xx and http_5xx got an answer;
 * timeout, refused, reset, dropped (the mobile client's injected drop),
 * unfinished (still unanswered when the run's grace period after its end ran
 * out) and other got none; backlog was never sent (the open model's cap on
 * requests outstanding was reached); ws_* are WebSocket failures.
 */
export type ErrorKind =
  | "http_4xx"
  | "http_5xx"
  | "timeout"
  | "refused"
  | "reset"
  | "dropped"
  | "backlog"
  | "unfinished"
  | "other"
  | "ws_error"
  | "ws_closed";

export interface WsStats {
  opened: number;
  open: number;
  sent: number;
  received: number;
}

interface Counts {
  sent: number;
  completed: number;
  errors: Partial<Record<ErrorKind, number>>;
  statuses: Record<string, number>;
}

/** One second of a run, as the generator saw it. */
export interface GeneratorTick extends Counts {
  /** Seconds since the start (1 for the first full second). */
  second: number;
  /** Length of this window in ms (the last one may be shorter). */
  windowMs: number;
  /** The profile's level at the end of the window (req/s or clients). */
  level: number;
  inFlight: number;
  latency: HistogramJson;
  ws: WsStats | null;
}

export interface GeneratorResult extends Counts {
  elapsedMs: number;
  latency: HistogramJson;
  /** The generator's own CPU over the run (user + system), in ms. */
  cpuMs: number;
  /** The longest a request started after its due time (open model), ms. */
  maxLagMs: number;
  ws: WsStats | null;
  errorSamples: string[];
}

const DROPPED = new Error("dropped by the mobile client");

function errorKind(e: Error & { code?: string }): ErrorKind {
  if (e === DROPPED) return "dropped";
  switch (e.code) {
    case "ECONNREFUSED":
      return "refused";
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
      return "reset";
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "timeout";
    case "UND_ERR_DESTROYED":
      return "unfinished";
  }
  return "other";
}

interface PreparedRequest {
  method: string;
  path: Template;
  headers: [string, Template][];
  body: Template | null;
  keys: KeySource | null;
  slots: Set<string>;
}

const perfClock: TimerClock & { setInterval(fn: () => void, ms: number): { cancel(): void } } = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  },
};

export class Generator {
  readonly #plan: LoadPlan;
  readonly #onTick: (t: GeneratorTick) => void;
  readonly #random: Random;
  readonly #pool: Pool;
  /** The URL's path, put before every request path (empty for an origin). */
  readonly #prefix: string;
  readonly #wsOrigin: string;
  readonly #pick: () => PreparedRequest;
  readonly #vars: Map<string, () => string>;
  readonly #total = new Histogram();
  readonly #window = new Histogram();
  #totals: Counts = { sent: 0, completed: 0, errors: {}, statuses: {} };
  #win: Counts = { sent: 0, completed: 0, errors: {}, statuses: {} };
  #inFlight = 0;
  #seq = 0;
  #start = 0;
  #lastTick = 0;
  #second = 0;
  #stopping = false;
  #stop: () => void = () => {};
  #scheduler: OpenScheduler | null = null;
  readonly #errorSamples: string[] = [];
  readonly #ws: WsStats | null;
  readonly #sockets = new Set<WebSocket>();
  readonly #socketKeys: KeySource | null;
  #drained: (() => void) | null = null;

  constructor(plan: LoadPlan, onTick: (t: GeneratorTick) => void) {
    this.#plan = plan;
    this.#onTick = onTick;
    this.#random = seededRandom(plan.seed);
    const url = new URL(plan.url);
    this.#prefix = url.pathname.replace(/\/+$/, "");
    this.#wsOrigin = url.origin.replace(/^http/, "ws");
    this.#pool = new Pool(url.origin, { connections: plan.connections, pipelining: 1 });
    this.#vars = new Map();
    for (const [name, spec] of Object.entries(plan.variables)) {
      if (Array.isArray(spec)) {
        const list = spec;
        this.#vars.set(name, () => list[Math.floor(this.#random() * list.length)]!);
      } else {
        this.#vars.set(name, keySource(spec, this.#random));
      }
    }
    const prepared = plan.requests.map((r) => {
      const path = compileTemplate(r.path);
      const headers = r.headers.map(([k, v]): [string, Template] => [k, compileTemplate(v)]);
      const body = r.body === null ? null : compileTemplate(r.body);
      const slots = new Set([...path.slots, ...headers.flatMap(([, t]) => t.slots), ...(body?.slots ?? [])]);
      const item: PreparedRequest = {
        method: r.method,
        path,
        headers,
        body,
        keys: r.keys ? keySource(r.keys, this.#random) : null,
        slots,
      };
      return { weight: r.weight, item };
    });
    this.#pick = weightedPicker(prepared, this.#random);
    this.#ws = plan.web ? { opened: 0, open: 0, sent: 0, received: 0 } : null;
    const socketKeys = plan.requests.find((r) => r.keys)?.keys ?? null;
    this.#socketKeys = socketKeys ? keySource(socketKeys, this.#random) : null;
  }

  /** Runs the plan to its end (or until `stop`), then waits for what is in flight. */
  async run(): Promise<GeneratorResult> {
    const cpu0 = process.cpuUsage();
    this.#start = perfClock.now();
    this.#lastTick = this.#start;
    const ticker = perfClock.setInterval(() => this.#tick(false), 1000);
    const stopSockets = this.#plan.web && this.#plan.model === "open" ? this.#openSockets() : () => {};
    try {
      if (this.#plan.model === "open") await this.#runOpen();
      else await this.#runClosed();
      stopSockets();
      await this.#drain();
    } finally {
      ticker.cancel();
      for (const s of this.#sockets) s.terminate();
      await this.#pool.destroy();
    }
    this.#tick(true);
    const elapsedMs = perfClock.now() - this.#start;
    const cpu = process.cpuUsage(cpu0);
    return {
      ...this.#totals,
      elapsedMs,
      latency: this.#total.toJSON(),
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxLagMs: this.#scheduler?.maxLagMs ?? 0,
      ws: this.#ws && { ...this.#ws },
      errorSamples: this.#errorSamples,
    };
  }

  /** Ends the run early: no new requests; those in flight still finish. */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#scheduler?.stop();
    this.#stop();
  }

  #runOpen(): Promise<void> {
    const arrivals = new Arrivals(this.#plan.levels, this.#plan.arrival, this.#random);
    return new Promise((resolve) => {
      const scheduler = new OpenScheduler(
        arrivals,
        perfClock,
        (due) => {
          if (this.#inFlight >= this.#plan.maxInFlight) {
            this.#error("backlog", null);
            return;
          }
          void this.#send(due, 0);
        },
        resolve,
      );
      this.#scheduler = scheduler;
      scheduler.start();
    });
  }

  /**
   * The closed model: `level` virtual clients, each sending its next request
   * a think time after its last answer. A controller follows the level curve
   * every 100 ms, starting clients and letting the extra ones finish.
   */
  #runClosed(): Promise<void> {
    const plan = this.#plan;
    let active = 0;
    let running = 0;
    return new Promise((resolve) => {
      const client = async (vu: number): Promise<void> => {
        running++;
        const closeSocket = plan.web ? this.#openSocket(vu) : () => {};
        let due = perfClock.now();
        try {
          while (!this.#stopping && vu < active) {
            await this.#send(due, vu);
            const think = plan.thinkMs.min + this.#random() * (plan.thinkMs.max - plan.thinkMs.min);
            due = perfClock.now() + think;
            if (think > 0) await new Promise((r) => setTimeout(r, think));
          }
        } finally {
          closeSocket();
          running--;
          if (running === 0 && this.#stopping) resolve();
        }
      };
      const follow = (): void => {
        const elapsed = perfClock.now() - this.#start;
        if (this.#stopping || elapsed >= plan.durationMs) {
          this.#stopping = true;
          control.cancel();
          if (running === 0) resolve();
          return;
        }
        const target = Math.round(levelAt(plan.levels, elapsed));
        for (let vu = active; vu < target; vu++) {
          active = vu + 1;
          void client(vu);
        }
        active = target;
      };
      const control = perfClock.setInterval(follow, 100);
      this.#stop = follow;
      follow();
    });
  }

  #values(req: PreparedRequest, vu: number): Record<string, string> {
    const v: Record<string, string> = {};
    const seq = this.#seq++;
    for (const slot of req.slots) {
      switch (slot) {
        case "key":
          v.key = req.keys ? req.keys() : "";
          break;
        case "seq":
          v.seq = String(seq);
          break;
        case "vu":
          v.vu = String(vu);
          break;
        case "rand":
          v.rand = String(Math.floor(this.#random() * 2 ** 31));
          break;
        case "uuid":
          v.uuid = randomUUID();
          break;
        case "now":
          v.now = String(Date.now());
          break;
        default:
          v[slot] = this.#vars.get(slot)?.() ?? "";
      }
    }
    return v;
  }

  /** Sends one request due at `due` (perf ms); resolves when it is answered or failed. */
  #send(due: number, vu: number): Promise<void> {
    const req = this.#pick();
    const values = this.#values(req, vu);
    const path = this.#prefix + renderTemplate(req.path, values);
    const body = req.body ? renderTemplate(req.body, values) : null;
    const headers: Record<string, string> = {};
    for (const [k, t] of req.headers) headers[k] = renderTemplate(t, values);
    this.#count("sent");
    this.#inFlight++;
    const mobile = this.#plan.mobile;
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        this.#inFlight--;
        if (this.#inFlight === 0) this.#drained?.();
        resolve();
      };
      const fail = (e: Error & { code?: string }): void => {
        const kind = errorKind(e);
        const why = kind === "unfinished" ? "no answer by the end of the run" : e.message;
        this.#error(kind, `${req.method} ${path}: ${why}`);
        finish();
      };
      const drop = mobile.dropRate > 0 && this.#random() < mobile.dropRate;
      let status = 0;
      const go = (): void => {
        try {
          this.#pool.dispatch(
            {
              method: req.method,
              path,
              headers,
              body,
              headersTimeout: this.#plan.timeoutMs,
              bodyTimeout: this.#plan.timeoutMs,
            },
            {
              onRequestStart: () => {},
              // A dropped connection loses the answer after the server did the work, as on a train.
              onResponseStart: (controller, statusCode) => {
                if (drop) controller.abort(DROPPED);
                status = statusCode;
              },
              onResponseData: () => {},
              onResponseEnd: () => {
                this.#completed(status, due, req.method, path);
                finish();
              },
              onResponseError: (_controller, e) => fail(e),
            },
          );
        } catch (e) {
          fail(e as Error);
        }
      };
      const delay = mobile.latencyMs + (this.#random() * 2 - 1) * mobile.jitterMs;
      if (delay > 0) setTimeout(go, delay);
      else go();
    });
  }

  #completed(status: number, due: number, method: string, path: string): void {
    this.#count("completed");
    const key = String(status);
    this.#totals.statuses[key] = (this.#totals.statuses[key] ?? 0) + 1;
    this.#win.statuses[key] = (this.#win.statuses[key] ?? 0) + 1;
    const micros = (perfClock.now() - due) * 1000;
    this.#total.record(micros);
    this.#window.record(micros);
    if (status >= 500) this.#error("http_5xx", `${method} ${path}: HTTP ${status}`);
    else if (status >= 400) this.#error("http_4xx", `${method} ${path}: HTTP ${status}`);
  }

  #count(what: "sent" | "completed"): void {
    this.#totals[what]++;
    this.#win[what]++;
  }

  #error(kind: ErrorKind, sample: string | null): void {
    this.#totals.errors[kind] = (this.#totals.errors[kind] ?? 0) + 1;
    this.#win.errors[kind] = (this.#win.errors[kind] ?? 0) + 1;
    if (sample && this.#errorSamples.length < 10) this.#errorSamples.push(sample);
  }

  #wsUrl(path: string): string {
    return `${this.#wsOrigin}${this.#prefix}${path}`;
  }

  /** The open model's web clients: `sockets` WebSockets held for the whole run. */
  #openSockets(): () => void {
    const closers = Array.from({ length: this.#plan.web!.sockets }, (_, i) => this.#openSocket(i));
    return () => closers.forEach((c) => c());
  }

  /**
   * One web client's WebSocket: opened, kept open, sending the message
   * template every `messageEvery`; reopened a second after it drops.
   */
  #openSocket(vu: number): () => void {
    const web = this.#plan.web!;
    const stats = this.#ws!;
    const path = compileTemplate(web.socket);
    const message = compileTemplate(web.message);
    let closed = false;
    let socket: WebSocket | null = null;
    let timer: NodeJS.Timeout | null = null;
    let retry: NodeJS.Timeout | null = null;
    let uncount = (): void => {};
    const key = this.#socketKeys?.() ?? String(vu);
    const connect = (): void => {
      const values = {
        key,
        vu: String(vu),
        seq: "0",
        rand: "0",
        uuid: randomUUID(),
        now: String(Date.now()),
      };
      const ws = new WebSocket(this.#wsUrl(renderTemplate(path, values)), {
        handshakeTimeout: this.#plan.timeoutMs,
      });
      socket = ws;
      this.#sockets.add(ws);
      let failed = false;
      let counted = false;
      uncount = () => {
        if (counted) stats.open--;
        counted = false;
      };
      ws.on("open", () => {
        counted = true;
        stats.opened++;
        stats.open++;
        let n = 0;
        timer = setInterval(() => {
          if (ws.readyState !== WebSocket.OPEN) return;
          ws.send(renderTemplate(message, { ...values, seq: String(n++), now: String(Date.now()) }));
          stats.sent++;
        }, web.messageEveryMs);
      });
      ws.on("message", () => {
        stats.received++;
      });
      ws.on("error", (e) => {
        failed = true;
        this.#error("ws_error", `WebSocket ${web.socket}: ${e.message}`);
      });
      ws.on("close", () => {
        this.#sockets.delete(ws);
        if (timer) clearInterval(timer);
        timer = null;
        uncount();
        if (closed) return;
        if (!failed) this.#error("ws_closed", `WebSocket ${web.socket}: closed by the server`);
        retry = setTimeout(connect, 1000);
      });
    };
    connect();
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      if (timer) clearInterval(timer);
      uncount();
      socket?.close();
    };
  }

  #drain(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const deadline = setTimeout(resolve, this.#plan.timeoutMs + 1000);
      this.#drained = () => {
        clearTimeout(deadline);
        resolve();
      };
    });
  }

  #tick(last: boolean): void {
    const now = perfClock.now();
    const windowMs = now - this.#lastTick;
    if (last && windowMs < 50 && this.#win.sent === 0 && this.#win.completed === 0) return;
    this.#lastTick = now;
    this.#second++;
    const tick: GeneratorTick = {
      ...this.#win,
      second: this.#second,
      windowMs,
      level: levelAt(this.#plan.levels, Math.min(now - this.#start, this.#plan.durationMs)),
      inFlight: this.#inFlight,
      latency: this.#window.toJSON(),
      ws: this.#ws && { ...this.#ws },
    };
    this.#win = { sent: 0, completed: 0, errors: {}, statuses: {} };
    this.#window.reset();
    this.#onTick(tick);
  }
}
