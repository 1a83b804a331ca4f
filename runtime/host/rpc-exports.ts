import { AsyncLocalStorage } from "node:async_hooks";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { serializeError } from "../shared/comlink-node.ts";
import { dataCloneError } from "../shared/errors.ts";
import { stubPorts, type RpcArgs } from "../shared/rpc-wire.ts";
import {
  abandon,
  CONTEXT_GONE_MESSAGE,
  forwardables,
  LOCAL_STUB_TARGET,
  type StubCall,
  type StubGone,
  type StubReply,
} from "./rpc-refs.ts";
import { disposeAll, type StubHandle } from "./rpc-imports.ts";
import { invokeOn } from "./rpc-values.ts";

/**
 * The export side of RPC stubs: the targets of this thread (functions,
 * RpcTargets, stubs passed on) that stubs elsewhere call. Each export holds
 * one port of a stub's MessageChannel and answers the calls on it, after the
 * object's input gate (ExportHooks). A target's `[Symbol.dispose]()` runs
 * once its last export closes from the far side. An object's exports close
 * when it is reset, hibernates or goes away (closeExports); an entry
 * Worker's event's when it ends (withExportContext).
 */

/** What answering a call needs of the wire (rpc-stubs.ts): the arguments' stubs in, the result's out. */
export interface ExportWire {
  decodeArgs(args: RpcArgs, received: StubHandle[]): unknown[];
  encodeRpc(value: unknown): unknown;
}

/** Runs around every call that arrives on an export (the object's input gate, in an object's worker). */
export interface ExportHooks {
  before(): Promise<void> | void;
  after(): void;
}
let hooks: ExportHooks = { before: () => {}, after: () => {} };

export function setExportHooks(h: ExportHooks): void {
  hooks = h;
}

/**
 * Told how many exports this thread has open whenever the number changes
 * (coalesced to one report per turn): an object's worker reports it to the
 * orchestrator, which keeps the object awake while a stub to one of its
 * targets is held elsewhere, as workerd does.
 */
let countReport: (open: number) => void = () => {};
let reported = 0;
let reportQueued = false;

export function setExportCountReport(report: (open: number) => void): void {
  countReport = report;
}

function reportCount(): void {
  reportQueued = false;
  if (openExports.size === reported) return;
  reported = openExports.size;
  countReport(reported);
}

function countChanged(): void {
  if (reportQueued) return;
  reportQueued = true;
  queueMicrotask(reportCount);
}

interface Export {
  target: object;
  port: MessagePort;
  closed: boolean;
}

/**
 * An entry Worker's event (a request, a queue batch): the functions and
 * RpcTargets it exported live as long as it runs, as on workerd, where
 * they belong to the event's execution context.
 */
interface ExportContext {
  exports: Set<Export>;
  /** The stubs it received (results of its calls): disposed when it ends, as on workerd. */
  imports: StubHandle[];
}
const exportContext = new AsyncLocalStorage<ExportContext>();

/**
 * Runs an event whose exports end with it (calls on their stubs afterwards
 * fail with workerd's CONTEXT_GONE_MESSAGE), and which disposes the stubs
 * it received and kept (their targets' disposers run).
 */
export async function withExportContext<T>(fn: () => Promise<T>): Promise<T> {
  const context: ExportContext = { exports: new Set(), imports: [] };
  try {
    return await exportContext.run(context, fn);
  } finally {
    disposeAll(context.imports);
    if (context.exports.size > 0) {
      const gone = new Error(CONTEXT_GONE_MESSAGE);
      for (const ex of context.exports) closeExport(ex, gone);
    }
  }
}

const openExports = new Set<Export>();
/** Open exports per target: the target's [Symbol.dispose]() runs when the last one closes. */
const exportCounts = new Map<object, number>();

/**
 * A new export of `value`, answering calls on its port with `wire`: the
 * port to send, which becomes a stub where it is read. A stub this thread
 * holds is exported as a dup() of it, a `new RpcStub(target)` as its target.
 */
export function exportTarget(value: object, wire: ExportWire): MessagePort {
  const f = forwardables.get(value);
  const local = f ? undefined : (value as Record<symbol, unknown>)[LOCAL_STUB_TARGET];
  const target = (f ? f.dup() : local !== undefined ? local : value) as object;
  const { port1, port2 } = new MessageChannel();
  const ex: Export = { target, port: port1, closed: false };
  openExports.add(ex);
  countChanged();
  exportContext.getStore()?.exports.add(ex);
  exportCounts.set(target, (exportCounts.get(target) ?? 0) + 1);
  port1.on("message", (m: unknown) => void serve(ex, m as StubCall, wire));
  port1.on("close", () => release(ex, true));
  port1.unref();
  return port2;
}

async function serve(ex: Export, m: StubCall, wire: ExportWire): Promise<void> {
  if (typeof m !== "object" || m === null || typeof m.c !== "number") return;
  const received: StubHandle[] = [];
  let reply: StubReply;
  try {
    await hooks.before();
    const args = m.op === "call" ? wire.decodeArgs(m.a, received) : [];
    const result = await invokeOn(ex.target, m.path, m.op, args);
    hooks.after();
    reply = { r: m.c, v: wire.encodeRpc(result) };
  } catch (e) {
    reply = { r: m.c, e: serializeError(e) };
  } finally {
    disposeAll(received);
  }
  if (ex.closed) return;
  try {
    ex.port.postMessage(reply, "v" in reply ? stubPorts(reply.v) : []);
  } catch (e) {
    // A result that cannot be cloned (a symbol, say) is the caller's error.
    abandon("v" in reply ? reply.v : undefined);
    try {
      ex.port.postMessage({
        r: m.c,
        e: serializeError(
          e instanceof Error && /could not be cloned/.test(e.message) ? dataCloneError(e.message) : e,
        ),
      } satisfies StubReply);
    } catch {
      // the stub's side is gone
    }
  }
}

function release(ex: Export, disposeTarget: boolean): void {
  if (ex.closed) return;
  ex.closed = true;
  openExports.delete(ex);
  countChanged();
  const n = (exportCounts.get(ex.target) ?? 1) - 1;
  if (n > 0) {
    exportCounts.set(ex.target, n);
    return;
  }
  exportCounts.delete(ex.target);
  const f = forwardables.get(ex.target);
  if (f) {
    // A stub of another thread's target, dup()ed for this export.
    f.dispose();
    return;
  }
  if (!disposeTarget) return;
  const dispose = (ex.target as Record<symbol, unknown>)[Symbol.dispose];
  if (typeof dispose === "function") {
    try {
      void Promise.resolve((dispose as () => unknown).call(ex.target)).catch(() => {});
    } catch {
      // a throwing disposer has nobody to tell
    }
  }
}

/**
 * Closes every export of this thread, telling each stub why (the object that
 * held the targets was reset, hibernated or went away): calls on them fail
 * with `reason`. Their targets' disposers do not run.
 */
export function closeExports(reason: Error): void {
  for (const ex of [...openExports]) closeExport(ex, reason);
  // At once: the object is going, and its next object must not inherit the count.
  reportCount();
}

function closeExport(ex: Export, reason: Error): void {
  if (ex.closed) return;
  release(ex, false);
  try {
    ex.port.postMessage({ gone: serializeError(reason) } satisfies StubGone);
  } catch {
    // the other side is gone already
  }
  ex.port.close();
}

/**
 * Stubs received (results of calls) by the entry Worker's event running now,
 * if any: disposed when it ends, as on workerd (see withExportContext).
 */
export function receivedInContext(handles: StubHandle[]): void {
  exportContext.getStore()?.imports.push(...handles);
}
