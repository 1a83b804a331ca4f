import * as Comlink from "comlink";
import {
  MessageBatch,
  outcomeOf,
  type BatchMetrics,
  type DeliveredMessage,
  type QueueOutcome,
} from "../bindings/queue.ts";
import { deliverEmail, type EmailOutcome } from "../bindings/incoming-email.ts";
import { runScheduled, type ScheduledOutcome, type ScheduledSpec } from "../bindings/scheduled.ts";
import { runWorkflow } from "../bindings/workflows.ts";
import type { WorkflowRunResult, WorkflowRunSpec } from "../bindings/workflow-calls.ts";
import { bodyTransfer, deserializeRequest, serializeResponse } from "./http-serialize.ts";
import type { Loaded } from "./load-bundle.ts";
import type { GatewayApi, SerializedRequest } from "./protocol.ts";
import { isResponse } from "./response.ts";
import { withStubPorts, type RpcArgs } from "../shared/rpc-wire.ts";
import { callMember } from "./rpc-values.ts";
import { decodeArgs, disposeAll, encodeRpc, type StubHandle } from "./rpc-stubs.ts";

/**
 * The project's stateless entry Worker in this thread: its default export's
 * `fetch` and `queue` (an object of handlers, or a WorkerEntrypoint class
 * made anew per event), its named entrypoints for service bindings, and the
 * runs of Workflow instances.
 */
export class EntryHost {
  readonly #gateway: Comlink.Remote<GatewayApi>;
  /** The entry Worker's `ctx`. */
  readonly ctx = {
    waitUntil: (p: Promise<unknown>) => {
      void Promise.resolve(p).catch((e: unknown) => console.error("waitUntil promise rejected:", e));
    },
    passThroughOnException: () => {},
  };

  constructor(gateway: Comlink.Remote<GatewayApi>) {
    this.#gateway = gateway;
  }

  /** Runs the default export's fetch; resolves to what it returned (the caller checks it is a Response). */
  async fetch(loaded: Loaded, request: Request): Promise<unknown> {
    const entry = loaded.module.default;
    if (typeof entry === "function") {
      const instance = new (entry as new (ctx: unknown, env: unknown) => { fetch?: (r: Request) => unknown })(
        this.ctx,
        loaded.env,
      );
      if (typeof instance.fetch !== "function")
        throw new TypeError("Handler does not export a fetch() function.");
      return instance.fetch(request);
    }
    const handler = (entry as { fetch?: unknown } | undefined)?.fetch;
    if (typeof handler !== "function") throw new TypeError("Handler does not export a fetch() function.");
    return (handler as (r: Request, env: unknown, ctx: unknown) => unknown).call(
      entry,
      request,
      loaded.env,
      this.ctx,
    );
  }

  /**
   * Runs the entry Worker's `queue(batch, env, ctx)` (or a WorkerEntrypoint's
   * `queue(batch)`) and reports what it decided; a handler that throws, or
   * is missing, is an "exception" outcome, never a failed call.
   */
  async queue(
    loaded: Loaded,
    queue: string,
    messages: DeliveredMessage[],
    metrics: BatchMetrics,
  ): Promise<QueueOutcome> {
    const batch = new MessageBatch(queue, messages, metrics);
    try {
      const entry = loaded.module.default;
      if (typeof entry === "function") {
        const instance = new (
          entry as new (ctx: unknown, env: unknown) => { queue?: (b: unknown) => unknown }
        )(this.ctx, loaded.env);
        if (typeof instance.queue !== "function")
          throw new TypeError("Handler does not export a queue() function.");
        await instance.queue(batch);
      } else {
        const handler = (entry as { queue?: unknown } | undefined)?.queue;
        if (typeof handler !== "function") throw new TypeError("Handler does not export a queue() function.");
        await (handler as (b: unknown, env: unknown, ctx: unknown) => unknown).call(
          entry,
          batch,
          loaded.env,
          this.ctx,
        );
      }
    } catch (e) {
      return outcomeOf(batch, e ?? new Error(String(e)));
    }
    return outcomeOf(batch, undefined);
  }

  /** A service binding's call on the entrypoint `entrypoint` (null: the default export); see WorkerApi. */
  async entrypoint(
    loaded: Loaded,
    entrypoint: string | null,
    call: { fetch: SerializedRequest } | { method: string; args: RpcArgs; kind: "call" | "get" },
  ): Promise<unknown> {
    const name = entrypoint ?? "default";
    const exported = loaded.module[name];
    if (exported === undefined) {
      throw new TypeError(`The Worker ${loaded.spec.workerName} has no entrypoint named "${name}".`);
    }
    if ("fetch" in call) {
      const request = deserializeRequest(call.fetch);
      let response: unknown;
      if (entrypoint === null) response = await this.fetch(loaded, request);
      else {
        // workerd's words, and a plain Error (not a TypeError) for a named entrypoint.
        const noFetch = new Error("Handler does not export a fetch() function.");
        if (typeof exported !== "function") throw noFetch;
        const instance = new (exported as new (ctx: unknown, env: unknown) => { fetch?: unknown })(
          this.ctx,
          loaded.env,
        );
        if (typeof instance.fetch !== "function") throw noFetch;
        response = await (instance.fetch as (r: Request) => unknown).call(instance, request);
      }
      if (!isResponse(response)) {
        throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
      }
      const out = await serializeResponse(response);
      return Comlink.transfer(out, bodyTransfer(out));
    }
    // RPC needs a class (a WorkerEntrypoint); a plain object's methods are not callable remotely.
    const receiver =
      typeof exported === "function"
        ? new (exported as new (ctx: unknown, env: unknown) => Record<string, unknown>)(this.ctx, loaded.env)
        : {};
    // Stubs in the arguments are disposed when the call returns; the result's leave as stubs.
    const received: StubHandle[] = [];
    try {
      const result = await callMember(receiver, call.method, decodeArgs(call.args, received), call.kind);
      return withStubPorts(encodeRpc(result));
    } finally {
      disposeAll(received);
    }
  }

  /**
   * Runs the entry Worker's `email(message, env, ctx)` (or a
   * WorkerEntrypoint's `email(message)`) on an incoming message
   * (incoming-email.ts); what it forwards or replies goes to the outbox.
   */
  email(loaded: Loaded, envelope: { from: string; to: string; raw: Uint8Array }): Promise<EmailOutcome> {
    const entry = loaded.module.default;
    let handler: ((message: unknown) => unknown) | null = null;
    if (typeof entry === "function") {
      const instance = new (entry as new (ctx: unknown, env: unknown) => { email?: (m: unknown) => unknown })(
        this.ctx,
        loaded.env,
      );
      if (typeof instance.email === "function") handler = (m) => instance.email!(m);
    } else {
      const email = (entry as { email?: unknown } | undefined)?.email;
      if (typeof email === "function")
        handler = (m) =>
          (email as (m: unknown, env: unknown, ctx: unknown) => unknown).call(entry, m, loaded.env, this.ctx);
    }
    return deliverEmail(
      envelope,
      handler,
      (m) => this.#gateway.email(m),
      (level, message) => console[level](message),
    );
  }

  /**
   * Runs the entry Worker's `scheduled(controller, env, ctx)` (or a
   * WorkerEntrypoint's `scheduled(controller)`) as a cron trigger would,
   * with a `ctx` of its own whose waitUntil promises the run waits for
   * (scheduled.ts). `warning` (the older trigger path) is logged first.
   */
  scheduled(loaded: Loaded, spec: ScheduledSpec, warning: string | null): Promise<ScheduledOutcome> {
    if (warning) console.warn(warning);
    const entry = loaded.module.default;
    return runScheduled(
      spec,
      (ctx) => {
        if (typeof entry === "function") {
          const instance = new (
            entry as new (ctx: unknown, env: unknown) => { scheduled?: (c: unknown) => unknown }
          )(ctx, loaded.env);
          const method = instance.scheduled;
          return typeof method === "function" ? (c) => method.call(instance, c) : null;
        }
        const method = (entry as { scheduled?: unknown } | undefined)?.scheduled;
        if (typeof method !== "function") return null;
        return (c) =>
          (method as (c: unknown, env: unknown, ctx: unknown) => unknown).call(entry, c, loaded.env, ctx);
      },
      (level, message, error) =>
        error === undefined ? console[level](message) : console[level](message, error),
    );
  }

  /** One run of a Workflow instance: its steps are recorded through the gateway. */
  workflowRun(loaded: Loaded, spec: WorkflowRunSpec): Promise<WorkflowRunResult> {
    return runWorkflow(loaded.module, loaded.env, this.ctx, spec, (call) => this.#gateway.workflow(call));
  }
}
