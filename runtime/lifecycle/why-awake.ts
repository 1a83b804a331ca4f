import type { ObjectProbe } from "../host/probe.ts";
import type { LifecycleState } from "../shared/lifecycle-model.ts";

/**
 * "Why is it awake?": the facts the Lifecycle Manager and the object's
 * worker hold, turned into the reasons an object is not hibernating now and
 * the time it will hibernate next if nothing else arrives. Pure, so the
 * rules are tested without a worker; they mirror Hibernation.sweep (hibernation.ts).
 */

/** What keeps an object from hibernating, or (alarm, idle-timeout) what decides when it does. */
export type AwakeReasonKind =
  | "requests"
  | "calls"
  | "starting"
  | "standard-websocket"
  | "streaming"
  | "held-stubs"
  | "wait-until"
  | "blocking"
  | "transaction"
  | "alarm"
  | "idle-timeout";

export interface AwakeReason {
  kind: AwakeReasonKind;
  /** True when this holds the object awake for as long as it lasts (the timeouts do not run out under it). */
  blocks: boolean;
  detail: string;
}

export interface AwakeFacts {
  state: LifecycleState;
  /** A worker is, or is becoming, this object. */
  live: boolean;
  starting: boolean;
  inFlight: number;
  /** Calls from other objects' workers on direct lines, in flight for a while. */
  directCalls: number;
  /** When the last event ended (or the object was woken). */
  lastEventAt: number;
  /** When it went Idle (meaningful in Idle). */
  idleSince: number;
  policy: { idleAfterMs: number; hibernateAfterMs: number };
  /** Accepted sockets on the standard API (ws.accept()), which pin an object awake. */
  standardSockets: number;
  /** Response bodies the object is streaming (a Response made from a ReadableStream), which pin it awake. */
  streams: number;
  /** Stubs to its functions and RpcTargets held elsewhere and not disposed, which pin it awake. */
  heldStubs: number;
  hibernatableSockets: number;
  alarmAt: number | null;
  /** What the worker says; null when it is not live or did not answer in time. */
  probe: ObjectProbe | null;
  now: number;
}

export interface WhyAwake {
  state: LifecycleState;
  /** When this was worked out (the engine's clock): the times below are absolute, on the same clock. */
  at: number;
  /** False while the object hibernates (or was never started). */
  awake: boolean;
  reasons: AwakeReason[];
  /** When it goes Idle if nothing else arrives (Active only). */
  idleAt: number | null;
  /**
   * When it hibernates next if nothing else arrives; null while asleep, or
   * while a blocking reason holds (then it is `quietMs` after they end).
   */
  hibernatesAt: number | null;
  /** How long it must be quiet to hibernate, from Active. */
  quietMs: number;
  policy: { idleAfterMs: number; hibernateAfterMs: number };
  alarmAt: number | null;
  /** The instance's fields as the worker previews them (null when asleep). */
  fields: Record<string, string> | null;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function seconds(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
}

export function whyAwake(f: AwakeFacts): WhyAwake {
  const quietMs = f.policy.idleAfterMs + f.policy.hibernateAfterMs;
  const base = {
    state: f.state,
    at: f.now,
    policy: f.policy,
    quietMs,
    alarmAt: f.alarmAt,
    fields: f.probe?.fields ?? null,
  };
  if (!f.live) {
    const reasons: AwakeReason[] = [];
    if (f.alarmAt !== null)
      reasons.push({
        kind: "alarm",
        blocks: false,
        detail: `its alarm ${f.alarmAt <= f.now ? "is due now" : `in ${seconds(f.alarmAt - f.now)}`} wakes it`,
      });
    return { ...base, awake: false, reasons, idleAt: null, hibernatesAt: null };
  }

  const reasons: AwakeReason[] = [];
  const hold = (kind: AwakeReasonKind, detail: string): void => {
    reasons.push({ kind, blocks: true, detail });
  };
  if (f.starting) hold("starting", "its worker is starting (the constructor is running)");
  if (f.inFlight > 0) hold("requests", `${plural(f.inFlight, "request")} in flight`);
  if (f.directCalls > 0)
    hold("calls", `${plural(f.directCalls, "call")} from other objects in flight on a direct line`);
  if (f.standardSockets > 0)
    hold(
      "standard-websocket",
      `${plural(f.standardSockets, "WebSocket")} accepted with ws.accept(), which keeps the object in memory while open; ` +
        "ctx.acceptWebSocket() would let it hibernate with the socket kept",
    );
  if (f.streams > 0)
    hold("streaming", `${plural(f.streams, "response body", "response bodies")} still streaming to a client`);
  if (f.heldStubs > 0)
    hold(
      "held-stubs",
      `held RPC stubs: ${f.heldStubs} (stubs to its functions or RpcTargets that another object or Worker ` +
        "holds keep it in memory until they are disposed)",
    );
  if (f.probe) {
    if (f.probe.waitUntil > 0)
      hold(
        "wait-until",
        `${plural(f.probe.waitUntil, "ctx.waitUntil promise")} not settled (hibernation waits for them)`,
      );
    if (f.probe.blocking) hold("blocking", "blockConcurrencyWhile() holds the input gate");
    if (f.probe.transaction) hold("transaction", "a storage transaction is open");
  }
  const blocked = reasons.length > 0;

  let idleAt: number | null = null;
  let hibernatesAt: number | null = null;
  if (!blocked) {
    if (f.state === "Idle") hibernatesAt = f.idleSince + f.policy.hibernateAfterMs;
    else {
      idleAt = f.lastEventAt + f.policy.idleAfterMs;
      hibernatesAt = idleAt + f.policy.hibernateAfterMs;
    }
    const quietFor = f.now - f.lastEventAt;
    reasons.push({
      kind: "idle-timeout",
      blocks: false,
      detail:
        f.state === "Idle"
          ? `Idle for ${seconds(f.now - f.idleSince)}; hibernates after ${seconds(f.policy.hibernateAfterMs)} Idle`
          : `no requests for ${seconds(quietFor)}; Idle after ${seconds(f.policy.idleAfterMs)}, then hibernates after ${seconds(f.policy.hibernateAfterMs)} more`,
    });
  }
  if (f.alarmAt !== null && (hibernatesAt === null || f.alarmAt <= hibernatesAt)) {
    reasons.push({
      kind: "alarm",
      blocks: false,
      detail:
        f.alarmAt <= f.now
          ? "its alarm is due now: it runs alarm() before it can go quiet"
          : `its alarm in ${seconds(f.alarmAt - f.now)} comes before it would hibernate, and runs alarm() awake`,
    });
  }
  return { ...base, awake: true, reasons, idleAt, hibernatesAt };
}

/** Why it is awake, for a table: the first reason that holds it (or an alarm due first), and when it hibernates. */
export interface AwakeBrief {
  /** "requests in flight", "standard WebSocket", "alarm due soon", ...; null when only the timeouts run. */
  reason: string | null;
  hibernatesAt: number | null;
}

const SHORT: Record<AwakeReasonKind, string> = {
  requests: "requests in flight",
  calls: "calls in flight",
  starting: "starting",
  "standard-websocket": "standard WebSocket",
  streaming: "streaming a response",
  "held-stubs": "held RPC stubs",
  "wait-until": "waitUntil pending",
  blocking: "blockConcurrencyWhile",
  transaction: "open transaction",
  alarm: "alarm due soon",
  "idle-timeout": "idle timeout",
};

/** The brief for a table row; null while asleep. */
export function awakeBrief(w: WhyAwake): AwakeBrief | null {
  if (!w.awake) return null;
  const held = w.reasons.find((r) => r.blocks) ?? w.reasons.find((r) => r.kind === "alarm");
  return { reason: held ? SHORT[held.kind] : null, hibernatesAt: w.hibernatesAt };
}

/** The brief as one line of text: the reason, or when it hibernates. */
export function awakeLine(w: WhyAwake): string | null {
  const b = awakeBrief(w);
  if (!b) return null;
  if (b.reason) return b.reason;
  return b.hibernatesAt === null ? null : `hibernates in ${seconds(b.hibernatesAt - w.at)}`;
}
