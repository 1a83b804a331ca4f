import { ProjectError } from "./errors.ts";

/**
 * The keys an `env.<name>` section does NOT inherit from the top level, as
 * wrangler has them (its EnvironmentNonInheritable): bindings, vars and
 * `define` belong to one environment and must be repeated in each. Every
 * other key (main, compatibility_date/flags, build, rules, migrations,
 * assets, alias, ...) is inherited unless the section sets it.
 */
export const NON_INHERITABLE_KEYS = [
  "define",
  "vars",
  "durable_objects",
  "workflows",
  "cloudchamber",
  "containers",
  "kv_namespaces",
  "send_email",
  "queues",
  "r2_buckets",
  "d1_databases",
  "vectorize",
  "hyperdrive",
  "services",
  "analytics_engine_datasets",
  "dispatch_namespaces",
  "mtls_certificates",
  "tail_consumers",
  "streaming_tail_consumers",
  "unsafe",
  "browser",
  "ai",
  "images",
  "version_metadata",
  "secrets_store_secrets",
  "unsafe_hello_world",
  "ratelimits",
  "worker_loaders",
  "pipelines",
  "logfwdr",
  "vpc_services",
] as const;

const NON_INHERITABLE = new Set<string>(NON_INHERITABLE_KEYS);

/** Keys that only mean something at the top level; an environment's copy is ignored (as wrangler does). */
const TOP_LEVEL_ONLY = new Set(["env", "dev", "legacy_env", "send_metrics", "keep_vars", "site", "$schema"]);

export interface ResolvedEnvironment {
  /** The config as the environment sees it: the section over the inherited top-level keys. */
  readonly value: Record<string, unknown>;
  /** Keys that came from the section (their errors are reported as `env.<name>.<key>`). */
  readonly fromSection: ReadonlySet<string>;
  /** What wrangler warns about: bindings at the top level the environment does not repeat. */
  readonly notes: readonly string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The environments a config declares (the keys of `env`), in order. */
export function environmentNames(raw: Record<string, unknown>): string[] {
  return isRecord(raw.env) ? Object.keys(raw.env) : [];
}

/**
 * The config of environment `envName` (wrangler's `--env`): the section's
 * keys, the top level's inheritable keys where the section has none, and
 * none of the top level's non-inheritable ones. The Worker is named
 * `<top-level name>-<env>` unless the section names it (wrangler appends
 * the environment's name), so Durable Object ids differ between
 * environments, as they do on Cloudflare and under `wrangler dev --env`.
 * Throws a ProjectError naming the environments there are when the config
 * has no such section.
 */
export function resolveEnvironment(
  raw: Record<string, unknown>,
  envName: string,
  file: string,
  fallbackName: string,
): ResolvedEnvironment {
  const envs = raw.env;
  if (envs !== undefined && !isRecord(envs)) {
    throw new ProjectError("must be an object of environments, e.g. { staging: { ... } }", {
      file,
      field: "env",
    });
  }
  const section = envs?.[envName];
  if (section === undefined) {
    const names = environmentNames(raw);
    throw new ProjectError(
      `no environment "${envName}" (--env): ${names.length ? `the config has ${names.map((n) => `"${n}"`).join(", ")}` : "the config has no `env` section"}`,
      { file, field: "env" },
    );
  }
  if (!isRecord(section)) {
    throw new ProjectError("must be an object (the environment's settings)", {
      file,
      field: `env.${envName}`,
    });
  }
  const value: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === "env" || NON_INHERITABLE.has(k)) continue;
    value[k] = v;
  }
  const fromSection = new Set<string>();
  for (const [k, v] of Object.entries(section)) {
    if (TOP_LEVEL_ONLY.has(k)) continue;
    value[k] = v;
    fromSection.add(k);
  }
  if (!("name" in section))
    value.name = `${typeof raw.name === "string" ? raw.name : fallbackName}-${envName}`;
  const notes: string[] = [];
  for (const k of NON_INHERITABLE_KEYS) {
    if (k in raw && !(k in section)) {
      notes.push(
        `"${k}" exists at the top level of ${file}, but not on "env.${envName}": it is not inherited by environments, so the ${envName} environment has none`,
      );
    }
  }
  return { value, fromSection, notes };
}
