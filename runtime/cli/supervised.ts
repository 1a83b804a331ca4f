import type { Engine } from "../engine.ts";
import type { WorkerObject } from "../lifecycle/lifecycle.ts";
import { CRASH_REPORT } from "./crash.ts";

/**
 * The engine's side of a supervised `serve` (the supervisor is
 * supervise.ts): what the two processes say to each other over the IPC
 * channel, and how the engine's process takes its listening socket, tells
 * which object each worker thread serves, and ends with its supervisor.
 */

/** Set by the supervisor in the engine process's environment. */
export const SUPERVISED_ENV = "TERRARIUM_SUPERVISED";
/** Where the engine process writes Node's report when it dies of a fatal error. */
export const CRASH_DIR_ENV = "TERRARIUM_CRASH_DIR";
/** `ui`'s per-launch token, chosen by the supervisor so that a restart keeps the page's address. */
export const UI_TOKEN_ENV = "TERRARIUM_UI_TOKEN";

/** The listening sockets a supervisor binds: the project's router, and `ui`'s page and control API. */
export type SocketName = "router" | "ui";

/** Refuse the next request to an object once, with this message (see LifecycleManager.refuseOnce). */
export interface Refusal {
  id: string;
  message: string;
}

export type ToSupervisor =
  | { t: "hello" }
  | { t: "ready"; port: number; memoryLimitMb: number }
  | { t: "thread"; thread: number; object: WorkerObject | null };

/**
 * The answer to hello: the objects to refuse once and the sockets that
 * follow, one `SocketMessage` each with its handle (one handle per message).
 */
export interface StartMessage {
  t: "start";
  refuse: Refusal[];
  sockets: SocketName[];
}

export interface SocketMessage {
  t: "socket";
  name: SocketName;
}

export interface SupervisorLink {
  /** Listening sockets bound by the supervisor, by name (none: listen as usual). */
  handles: ReadonlyMap<SocketName, object>;
  /** Tells the supervisor which object each worker thread serves, and applies the refusals. */
  watch(engine: Engine): void;
  ready(port: number, memoryLimitMb: number): void;
}

/** Whether this process runs the engine for a supervisor. */
export function isSupervised(): boolean {
  return process.env[SUPERVISED_ENV] === "1" && typeof process.send === "function";
}

function send(m: ToSupervisor): void {
  if (process.connected) process.send!(m);
}

/**
 * Joins the supervisor: a fatal error (V8 out of memory in a worker ends
 * the whole process) leaves a Node report naming the thread; the process
 * ends with its supervisor (a `kill -9` of the supervisor is one of this
 * process, as it was before there was one); and the listening socket and
 * the objects to refuse once come back in answer to hello.
 */
export function connectSupervisor(): Promise<SupervisorLink> {
  const dir = process.env[CRASH_DIR_ENV];
  if (dir) {
    process.report.reportOnFatalError = true;
    process.report.directory = dir;
    process.report.filename = CRASH_REPORT;
  }
  process.on("disconnect", () => process.kill(process.pid, "SIGKILL"));
  return new Promise((resolve) => {
    const handles = new Map<SocketName, object>();
    let expected: StartMessage | null = null;
    const onMessage = (m: unknown, handle: unknown): void => {
      const msg = m as StartMessage | SocketMessage | null;
      if (msg?.t === "start") expected = msg;
      else if (msg?.t === "socket" && handle) handles.set(msg.name, handle as object);
      else return;
      if (!expected || handles.size < expected.sockets.length) return;
      process.off("message", onMessage);
      process.channel?.unref();
      const { refuse } = expected;
      resolve({
        handles,
        watch(engine) {
          for (const lifecycle of engine.lifecycles()) {
            lifecycle.watchWorkers((thread, object) => send({ t: "thread", thread, object }));
            for (const r of refuse) lifecycle.refuseOnce(r.id, r.message);
          }
        },
        ready: (port, memoryLimitMb) => send({ t: "ready", port, memoryLimitMb }),
      });
    };
    process.on("message", onMessage);
    send({ t: "hello" });
  });
}
