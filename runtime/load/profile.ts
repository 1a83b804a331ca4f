import type { LoadProfileConfig } from "../config/terrarium.ts";
import {
  parseDuration,
  parseKeySpec,
  parseRange,
  parseThreshold,
  type KeySpec,
  type Threshold,
} from "../shared/grammar.ts";
import { curveDuration, levelCurve, type LevelPoint } from "./schedule.ts";

export type ClientKind = "api" | "web" | "mobile";

export interface PlannedRequest {
  weight: number;
  method: string;
  path: string;
  headers: [string, string][];
  body: string | null;
  keys: KeySpec | null;
}

/**
 * A load profile resolved for the generator: every duration in ms, every
 * spec parsed, the level curve drawn. Plain data, so it crosses to the
 * generator's process as it is.
 */
export interface LoadPlan {
  name: string;
  /** Base URL of the Terrarium (or any HTTP server) under load. */
  url: string;
  model: "open" | "closed";
  levels: LevelPoint[];
  durationMs: number;
  arrival: "uniform" | "poisson";
  thinkMs: { min: number; max: number };
  client: ClientKind;
  mobile: { latencyMs: number; jitterMs: number; dropRate: number };
  web: { socket: string; sockets: number; messageEveryMs: number; message: string } | null;
  variables: Record<string, KeySpec | string[]>;
  requests: PlannedRequest[];
  connections: number;
  timeoutMs: number;
  maxInFlight: number;
  seed: number;
}

const DEFAULT_CONNECTIONS = 64;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_IN_FLIGHT = 10_000;

/** Turns a checked profile (see parseLoadProfile) into the generator's plan. */
export function planLoad(name: string, p: LoadProfileConfig, url: string): LoadPlan {
  const model = p.model ?? (p.clients !== undefined ? "closed" : "open");
  const start = (model === "open" ? p.rate : p.clients) ?? 0;
  const stages = p.stages
    ? p.stages.map((s) => ({ durationMs: parseDuration(s.duration), target: s.target }))
    : [{ durationMs: parseDuration(p.duration ?? 0), target: start }];
  const levels = levelCurve({
    start,
    stages,
    spike: p.spike && {
      atMs: parseDuration(p.spike.at),
      durationMs: parseDuration(p.spike.duration),
      target: p.spike.target,
    },
  });
  const maxLevel = Math.max(...levels.map((l) => l.level));
  const keys = p.keys === undefined ? null : parseKeySpec(p.keys);
  const variables: Record<string, KeySpec | string[]> = {};
  for (const [k, v] of Object.entries(p.variables ?? {}))
    variables[k] = Array.isArray(v) ? v : parseKeySpec(v);
  const client = p.client ?? "api";
  return {
    name,
    url: url.replace(/\/+$/, ""),
    model,
    levels,
    durationMs: curveDuration(levels),
    arrival: p.arrival ?? "uniform",
    thinkMs: p.thinkTime === undefined ? { min: 0, max: 0 } : parseRange(p.thinkTime),
    client,
    mobile: {
      latencyMs: client === "mobile" ? parseDuration(p.mobile?.latency ?? "60ms") : 0,
      jitterMs: client === "mobile" ? parseDuration(p.mobile?.jitter ?? "30ms") : 0,
      dropRate: client === "mobile" ? (p.mobile?.dropRate ?? 0.01) : 0,
    },
    web: p.web
      ? {
          socket: p.web.socket,
          sockets: p.web.sockets ?? 10,
          messageEveryMs: parseDuration(p.web.messageEvery ?? "1s"),
          message: p.web.message ?? "ping {seq}",
        }
      : null,
    variables,
    requests: p.requests.map((r) => {
      const json = r.body !== undefined && typeof r.body !== "string";
      const headers = Object.entries(r.headers ?? {}).map(([k, v]): [string, string] => [k.toLowerCase(), v]);
      if (json && !headers.some(([k]) => k === "content-type"))
        headers.push(["content-type", "application/json"]);
      return {
        weight: r.weight ?? 1,
        method: r.method ?? (r.body === undefined ? "GET" : "POST"),
        path: r.path,
        headers,
        body: r.body === undefined ? null : json ? JSON.stringify(r.body) : (r.body as string),
        keys: r.keys === undefined ? keys : parseKeySpec(r.keys),
      };
    }),
    connections:
      p.connections ?? (model === "closed" ? Math.max(1, Math.ceil(maxLevel)) : DEFAULT_CONNECTIONS),
    timeoutMs: p.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(p.timeout),
    maxInFlight: p.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
    seed: p.seed ?? Math.floor(Math.random() * 2 ** 31),
  };
}

export function profileThresholds(p: LoadProfileConfig): Threshold[] {
  return (p.thresholds ?? []).map(parseThreshold);
}

/** One line describing the shape of a run, for the summary's header. */
export function describePlan(plan: LoadPlan): string {
  const levels = plan.levels.map((l) => l.level);
  const lo = Math.min(...levels);
  const hi = Math.max(...levels);
  const range = lo === hi ? fmt(hi) : `${fmt(lo)}..${fmt(hi)}`;
  const secs = `${(plan.durationMs / 1000).toFixed(plan.durationMs % 1000 === 0 ? 0 : 1)}s`;
  const what =
    plan.model === "open"
      ? `open model, ${range} req/s${plan.arrival === "poisson" ? " (Poisson)" : ""}`
      : `closed model, ${range} clients${plan.thinkMs.max > 0 ? `, think ${plan.thinkMs.min}..${plan.thinkMs.max} ms` : ""}`;
  return `${what} for ${secs}, ${plan.client} client`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString("en-US") : n.toFixed(1);
}
