import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { z } from "zod";
import { ProjectError } from "./errors.ts";
import {
  BUILTIN_VARIABLES,
  compileTemplate,
  parseDuration,
  parseKeySpec,
  parseRange,
  parseThreshold,
} from "../shared/grammar.ts";
import type { WranglerProject } from "./wrangler.ts";
import { OBJECT_KINDS } from "../shared/object-kinds.ts";

const lifecyclePolicy = z
  .object({
    /** Active with nothing in flight for this long -> Idle. */
    idleAfterMs: z.number().int().min(0).optional(),
    /** Idle for this long -> Hibernating (worker ended, state on disk). */
    hibernateAfterMs: z.number().int().min(0).optional(),
  })
  .strict();

const route = z
  .object({
    pattern: z.string().startsWith("/", "must start with /"),
    method: z.union([z.string(), z.array(z.string())]).optional(),
    binding: z.string(),
    /** Name template for idFromName: "{param}", "{query.k}", "{header.h}", literal text. */
    object: z.string().min(1),
  })
  .strict();

const subscription = z
  .object({
    topic: z.string().min(1),
    binding: z.string(),
    /** Name template for the subscriber object: literal, or "{data.field}" from the event. */
    object: z.string().min(1),
    method: z
      .string()
      .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/)
      .default("onEvent"),
  })
  .strict();

/** A string checked by one of the load parsers, which explains what it expected. */
function checkedBy<T>(parse: (v: string) => T) {
  return (v: string, ctx: z.RefinementCtx): void => {
    try {
      parse(v);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
  };
}

const duration = z.union([z.string().superRefine(checkedBy(parseDuration)), z.number().min(0)]);
const keySpec = z.string().superRefine(checkedBy(parseKeySpec));
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an identifier");

const loadRequest = z
  .object({
    /** Relative share of the mix (default 1). */
    weight: z.number().positive().optional(),
    method: z
      .string()
      .regex(/^[A-Z]+$/, "an HTTP method in capitals")
      .optional(),
    /** Path template: `{key}`, `{seq}`, `{vu}`, `{rand}`, `{uuid}`, `{now}` or a variable. */
    path: z.string().startsWith("/", "must start with /"),
    headers: z.record(z.string(), z.string()).optional(),
    /** A text template, or JSON (sent as JSON; templates work inside its strings). */
    body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
    /** This request's key distribution; the profile's when absent. */
    keys: keySpec.optional(),
  })
  .strict();

/**
 * One load profile (terrarium.json `loadProfiles.<name>`). The open model
 * sends `rate` requests per second whatever the server does; the closed
 * model runs `clients` virtual clients, each sending its next request a think
 * time after its last answer. `stages` ramp the level (rate or clients)
 * linearly from the previous one (the first from `rate`/`clients`, else 0);
 * `spike` holds the level at `target` for a while.
 */
const loadProfile = z
  .object({
    description: z.string().optional(),
    model: z.enum(["open", "closed"]).optional(),
    rate: z.number().min(0).max(1_000_000).optional(),
    clients: z.number().int().min(0).max(100_000).optional(),
    /** Closed model: "100ms" or a uniform range "50ms..150ms" (default 0). */
    thinkTime: z.union([z.string().superRefine(checkedBy(parseRange)), z.number().min(0)]).optional(),
    duration: duration.optional(),
    stages: z
      .array(z.object({ duration, target: z.number().min(0).max(1_000_000) }).strict())
      .min(1)
      .optional(),
    spike: z
      .object({ at: duration, duration, target: z.number().min(0).max(1_000_000) })
      .strict()
      .optional(),
    /** Open model: evenly spaced arrivals (default) or a Poisson process. */
    arrival: z.enum(["uniform", "poisson"]).optional(),
    client: z.enum(["api", "web", "mobile"]).optional(),
    mobile: z
      .object({
        latency: duration.optional(),
        jitter: duration.optional(),
        dropRate: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
    web: z
      .object({
        /** WebSocket path template, opened once per virtual client (open model: `sockets` of them). */
        socket: z.string().startsWith("/", "must start with /"),
        sockets: z.number().int().min(1).max(10_000).optional(),
        messageEvery: duration.optional(),
        message: z.string().optional(),
      })
      .strict()
      .optional(),
    keys: keySpec.optional(),
    /** Template variables: a key distribution, or a list of strings to pick from. */
    variables: z.record(identifier, z.union([keySpec, z.array(z.string()).min(1)])).optional(),
    requests: z.array(loadRequest).min(1),
    thresholds: z.array(z.string().superRefine(checkedBy(parseThreshold))).optional(),
    /** Keep-alive connections (open model, default 64; closed: one per client). */
    connections: z.number().int().min(1).max(10_000).optional(),
    timeout: duration.optional(),
    /** Open model: requests outstanding past which new arrivals are dropped and counted (default 10,000). */
    maxInFlight: z.number().int().min(1).max(1_000_000).optional(),
    seed: z.number().int().optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const issue = (message: string, path: (string | number)[] = []): void =>
      ctx.addIssue({ code: "custom", message, path });
    const model = p.model ?? (p.clients !== undefined ? "closed" : "open");
    if (p.model === undefined && p.rate !== undefined && p.clients !== undefined)
      issue("give a rate (open model) or clients (closed model), not both", ["clients"]);
    else if (model === "open" && p.clients !== undefined)
      issue("the open model takes a rate, not clients", ["clients"]);
    else if (model === "closed" && p.rate !== undefined)
      issue("the closed model takes clients, not a rate", ["rate"]);
    if (!p.stages) {
      if (p.duration === undefined) issue("give a duration, or stages", ["duration"]);
      if (model === "open" && p.rate === undefined)
        issue("the open model needs a rate (requests/s)", ["rate"]);
      if (model === "closed" && p.clients === undefined) issue("the closed model needs clients", ["clients"]);
    } else if (p.duration !== undefined) {
      issue("give either a duration or stages, not both", ["duration"]);
    }
    if (model === "open" && p.thinkTime !== undefined)
      issue("think time belongs to the closed model", ["thinkTime"]);
    if (p.web && (p.client ?? "api") !== "web") issue('web settings need "client": "web"', ["web"]);
    if (p.client === "web" && !p.web) issue('a web client needs "web": { "socket": "/path" }', ["client"]);
    if (p.mobile && (p.client ?? "api") !== "mobile")
      issue('mobile settings need "client": "mobile"', ["mobile"]);
    const vars = new Set<string>([...BUILTIN_VARIABLES, ...Object.keys(p.variables ?? {})]);
    for (const name of Object.keys(p.variables ?? {})) {
      if ((BUILTIN_VARIABLES as readonly string[]).includes(name))
        issue(`{${name}} is built in; pick another name`, ["variables", name]);
    }
    const check = (text: string, path: (string | number)[], keys: string | undefined): void => {
      for (const slot of compileTemplate(text).slots) {
        if (!vars.has(slot)) issue(`unknown variable {${slot}}`, path);
        if (slot === "key" && keys === undefined)
          issue("uses {key} but no key distribution is given (keys: uniform:K, zipf:K[:s] or seq)", path);
      }
    };
    p.requests.forEach((r, i) => {
      const keys = r.keys ?? p.keys;
      check(r.path, ["requests", i, "path"], keys);
      if (typeof r.body === "string") check(r.body, ["requests", i, "body"], keys);
      else if (r.body !== undefined) check(JSON.stringify(r.body), ["requests", i, "body"], keys);
      for (const [h, v] of Object.entries(r.headers ?? {})) check(v, ["requests", i, "headers", h], keys);
    });
    if (p.web) {
      check(p.web.socket, ["web", "socket"], p.keys);
      if (p.web.message !== undefined) check(p.web.message, ["web", "message"], p.keys);
    }
  });

/**
 * How a class spreads over shard objects when one object is not enough. The
 * Router takes `key` from each request (a route-style template:
 * `{header.x-user}`, `{query.user}`, a route parameter), hashes it with jump
 * consistent hashing onto the current shard count, and sends the request to
 * the shard object named by `shardName`. Shard 0 keeps the original name, so
 * with one shard nothing moves. The Lifecycle Manager adds a shard when the
 * shards' mean in-flight requests stay above `targetInFlight` for
 * `scaleUpAfter`, and removes one after `scaleDownAfter` below half of it.
 * NOTE: a key that moves to a new shard leaves its old data where it was.
 */
const shardingPolicy = z
  .object({
    key: z.string().min(1),
    minShards: z.number().int().min(1).max(1024).default(1),
    maxShards: z.number().int().min(1).max(1024),
    targetInFlight: z.number().positive().max(10_000),
    scaleUpAfter: duration.optional(),
    scaleDownAfter: duration.optional(),
    shardName: z.string().includes("{shard}", "must contain {shard}").default("{name}#{shard}"),
  })
  .strict()
  .refine((p) => p.minShards <= p.maxShards, {
    message: "minShards is above maxShards",
    path: ["minShards"],
  });

/**
 * A class renamed or deleted in Terrarium (the Design view appends these,
 * oldest first). The export turns the ones that touch a deployed class into
 * renamed_classes / deleted_classes migrations.
 */
const className = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, "must be a class name");
const classChange = z.union([
  z.object({ op: z.literal("rename"), from: className, to: className }).strict(),
  z.object({ op: z.literal("delete"), class: className }).strict(),
]);

/**
 * A mock third-party endpoint: outbound fetches to URLs under `url` get
 * this answer while Terrarium runs the project (see runtime/bindings/mock-fetch.ts).
 */
const mock = z
  .object({
    url: z.string().regex(/^https?:\/\/[^/]+/, "must be an http(s) URL prefix"),
    method: z.string().optional(),
    status: z.number().int().min(200).max(599).default(200),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    latencyMs: z.union([z.number().min(0), z.tuple([z.number().min(0), z.number().min(0)])]).optional(),
    errorRate: z.number().min(0).max(1).optional(),
    errorStatus: z.number().int().min(400).max(599).optional(),
  })
  .strict();

const terrariumSchema = z
  .object({
    $schema: z.string().optional(),
    eventBus: z
      .object({ binding: z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/) })
      .strict()
      .optional(),
    lifecycle: lifecyclePolicy.extend({ maxLiveObjects: z.number().int().min(1).optional() }).optional(),
    classes: z
      .record(
        z.string(),
        z
          .object({
            kind: z.enum(OBJECT_KINDS).optional(),
            notes: z.string().optional(),
            lifecycle: lifecyclePolicy.optional(),
          })
          .strict(),
      )
      .optional(),
    routes: z.array(route).optional(),
    subscriptions: z.array(subscription).optional(),
    history: z.array(classChange).optional(),
    /** Per class name: how it shards (see shardingPolicy). */
    sharding: z.record(z.string(), shardingPolicy).optional(),
    loadProfiles: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . -"), loadProfile)
      .optional(),
    mocks: z.array(mock).optional(),
    /** The Workers AI stand-in (runtime/bindings/ai-stand-in.ts): off unless `standIn` is true. */
    ai: z
      .object({
        standIn: z.boolean(),
        latencyMs: z
          .union([z.number().min(0).max(60_000), z.tuple([z.number().min(0), z.number().min(0).max(60_000)])])
          .optional(),
      })
      .strict()
      .optional(),
    // Owned by a later subsystem (the canvas); kept as-is.
    layout: z.unknown().optional(),
  })
  .strict();

export type TerrariumConfig = z.infer<typeof terrariumSchema>;
export type RouteConfig = z.infer<typeof route>;
export type SubscriptionConfig = z.infer<typeof subscription>;
export type ClassChange = z.infer<typeof classChange>;
export type LoadProfileConfig = z.infer<typeof loadProfile>;
export type ShardingPolicyConfig = z.infer<typeof shardingPolicy>;

/** Checks one load profile (from the console or the command line) as terrarium.json would. */
export function parseLoadProfile(value: unknown): LoadProfileConfig {
  const r = loadProfile.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new ProjectError(issue.message, { field: fieldPath(issue.path) || "(profile)" });
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");
}

export const DEFAULT_EVENT_BUS_BINDING = "EVENTS";

/** Reads the optional terrarium.json design layer, checked against the wrangler config. */
export function loadTerrariumConfig(projectDir: string, wrangler: WranglerProject): TerrariumConfig {
  const path = join(projectDir, "terrarium.json");
  if (!existsSync(path)) return {};
  const text = readFileSync(path, "utf8");
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: true });
  const first = errors[0];
  if (first) {
    const line = text.slice(0, first.offset).split("\n").length;
    throw new ProjectError(`invalid JSON: ${printParseErrorCode(first.error)}`, {
      file: "terrarium.json",
      line,
    });
  }
  const parsed = terrariumSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ProjectError(issue.message, {
      file: "terrarium.json",
      field: fieldPath(issue.path) || "(root)",
    });
  }
  const cfg = parsed.data;
  const bindings = new Set(wrangler.durableObjects.map((b) => b.binding));
  const classes = new Set(wrangler.durableObjects.map((b) => b.className));
  cfg.routes?.forEach((r, i) => {
    if (!bindings.has(r.binding)) {
      throw new ProjectError(`unknown Durable Object binding ${r.binding}`, {
        file: "terrarium.json",
        field: `routes[${i}].binding`,
      });
    }
  });
  cfg.subscriptions?.forEach((s, i) => {
    if (!bindings.has(s.binding)) {
      throw new ProjectError(`unknown Durable Object binding ${s.binding}`, {
        file: "terrarium.json",
        field: `subscriptions[${i}].binding`,
      });
    }
  });
  for (const name of Object.keys(cfg.classes ?? {})) {
    if (!classes.has(name)) {
      throw new ProjectError(`no Durable Object binding uses class ${name}`, {
        file: "terrarium.json",
        field: `classes.${name}`,
      });
    }
  }
  for (const name of Object.keys(cfg.sharding ?? {})) {
    if (!classes.has(name)) {
      throw new ProjectError(`no Durable Object binding uses class ${name}`, {
        file: "terrarium.json",
        field: `sharding.${name}`,
      });
    }
  }
  const busBinding = cfg.eventBus?.binding;
  if (busBinding && (bindings.has(busBinding) || busBinding in wrangler.vars)) {
    throw new ProjectError(`${busBinding} is already a binding in the wrangler config`, {
      file: "terrarium.json",
      field: "eventBus.binding",
    });
  }
  return cfg;
}

/** The event bus binding name, or null when the project uses no event bus. */
export function eventBusBinding(cfg: TerrariumConfig): string | null {
  if (cfg.eventBus) return cfg.eventBus.binding;
  if (cfg.subscriptions && cfg.subscriptions.length > 0) return DEFAULT_EVENT_BUS_BINDING;
  return null;
}
