import { currentTrace } from "./trace-scope.ts";
import * as Comlink from "comlink";
import { D1Database } from "../bindings/d1.ts";
import { R2Bucket } from "../bindings/r2.ts";
import { KVNamespace } from "../bindings/kv.ts";
import { WorkerQueue } from "../bindings/queue.ts";
import { remoteOnlyBinding } from "../bindings/remote-only.ts";
import { SendEmailBinding } from "../bindings/send-email.ts";
import { AiStandIn } from "../bindings/ai-stand-in.ts";
import { WorkflowBinding } from "../bindings/workflows.ts";
import { RateLimitBinding } from "../bindings/ratelimit.ts";
import { AnalyticsEngineDataset } from "../bindings/analytics-engine.ts";
import { AssetsBinding } from "./assets-binding.ts";
import { withStubPorts } from "../shared/rpc-wire.ts";
import { bodyTransfer } from "./http-serialize.ts";
import { DurableObjectNamespace, type ClientSocketFactory } from "./namespace.ts";
import type { Peers } from "./peers.ts";
import type { CodeSpec, GatewayApi } from "./protocol.ts";
import { serviceBinding } from "./service-binding.ts";

/** `env.<binding>` for the event bus: publish reaches the orchestrator's Event Bus through the gateway. */
class EventBusBinding {
  readonly #gateway: Comlink.Remote<GatewayApi>;
  constructor(gateway: Comlink.Remote<GatewayApi>) {
    this.#gateway = gateway;
  }

  /** Publishes `data` on `topic`; resolves once the event is persisted. */
  publish(topic: string, data: unknown): Promise<{ id: number }> {
    if (typeof topic !== "string" || topic === "")
      return Promise.reject(new TypeError("publish() needs a topic name."));
    return this.#gateway.publish(topic, data, currentTrace());
  }
}

/**
 * The `env` one version of the project's code sees: its vars, and a binding
 * object for each binding the code spec names. Bindings that reach outside
 * the worker (objects, the bus, queues, Workflows, services, rate limits,
 * data points) call the orchestrator through the gateway; the local stand-ins
 * (D1, R2, KV, assets) work on their files in this thread.
 */
export function buildEnv(
  spec: CodeSpec,
  gateway: Comlink.Remote<GatewayApi>,
  peers: Peers,
  clientSocket: ClientSocketFactory,
): Record<string, unknown> {
  const env: Record<string, unknown> = { ...spec.vars };
  for (const b of spec.durableObjects) {
    env[b.binding] = new DurableObjectNamespace(
      b.binding,
      b.scriptName ?? spec.workerName,
      b.className,
      peers,
      clientSocket,
    );
  }
  if (spec.eventBusBinding) env[spec.eventBusBinding] = new EventBusBinding(gateway);
  for (const d of spec.d1Databases) env[d.binding] = new D1Database(d.path);
  for (const r of spec.r2Buckets) env[r.binding] = new R2Bucket(r.path);
  for (const k of spec.kvNamespaces) env[k.binding] = new KVNamespace(k.path);
  // workerd's queues_json_messages (default from 2024-03-18): JSON unless the send names a content type.
  const queueType = spec.compatibilityDate >= "2024-03-18" ? "json" : "v8";
  for (const q of spec.queueProducers) {
    env[q.binding] = new WorkerQueue(
      q.queue,
      (queue, messages) =>
        gateway.queueSend(
          queue,
          Comlink.transfer(
            messages,
            messages.map((m) => m.body.buffer as ArrayBuffer),
          ),
          currentTrace(),
        ),
      queueType,
      q.deliveryDelay,
    );
  }
  for (const r of spec.remoteOnly) env[r.binding] = remoteOnlyBinding(r);
  for (const e of spec.sendEmail ?? []) env[e.binding] = new SendEmailBinding(e, (m) => gateway.email(m));
  for (const a of spec.aiStandIn ?? []) env[a.binding] = new AiStandIn(a);
  for (const a of spec.analyticsEngine ?? [])
    env[a.binding] = new AnalyticsEngineDataset(a, (p) => void gateway.dataPoint(p));
  for (const r of spec.rateLimits ?? [])
    env[r.binding] = new RateLimitBinding(r, (b, k, l, p) => gateway.rateLimit(b, k, l, p));
  for (const w of spec.workflows ?? [])
    env[w.binding] = new WorkflowBinding(w.binding, (call) => gateway.workflow(call));
  if (spec.assets) env[spec.assets.binding] = new AssetsBinding(spec.assets.spec);
  for (const svc of spec.services) {
    env[svc.binding] = serviceBinding(svc.binding, {
      fetch: (b, req) => gateway.serviceFetch(b, Comlink.transfer(req, bodyTransfer(req))),
      rpc: (b, method, args, kind) => gateway.serviceRpc(b, method, withStubPorts(args), kind),
    });
  }
  return env;
}
