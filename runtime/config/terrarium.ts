import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { z } from "zod";
import { ProjectError } from "./errors.ts";
import type { WranglerProject } from "./wrangler.ts";

export const OBJECT_KINDS = [
  "Authentication",
  "User Management",
  "Data Storage",
  "API Gateway",
  "UI Renderer",
  "Analytics",
  "Notification",
  "Custom",
] as const;

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
    // Owned by later subsystems (sharding, load, mocks, canvas); kept as-is.
    sharding: z.unknown().optional(),
    loadProfiles: z.unknown().optional(),
    mocks: z.unknown().optional(),
    layout: z.unknown().optional(),
  })
  .strict();

export type TerrariumConfig = z.infer<typeof terrariumSchema>;
export type RouteConfig = z.infer<typeof route>;
export type SubscriptionConfig = z.infer<typeof subscription>;

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
    const field = issue.path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "");
    throw new ProjectError(issue.message, { file: "terrarium.json", field: field || "(root)" });
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
