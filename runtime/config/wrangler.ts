import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { parse as parseToml, TomlError } from "smol-toml";
import { z } from "zod";
import { ProjectError } from "./errors.ts";
import { checkMigrations } from "./migrations-check.ts";
import { resolveEnvironment } from "./environments.ts";

export const WRANGLER_FILES = ["wrangler.jsonc", "wrangler.json", "wrangler.toml"] as const;

const identifier = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, "must be a JavaScript identifier");

const doBinding = z
  .object({
    name: identifier,
    class_name: identifier,
    script_name: z.string().optional(),
    environment: z.string().optional(),
  })
  .strict();

const migration = z
  .object({
    tag: z.string().min(1),
    new_classes: z.array(identifier).optional(),
    new_sqlite_classes: z.array(identifier).optional(),
    renamed_classes: z.array(z.object({ from: identifier, to: identifier }).strict()).optional(),
    deleted_classes: z.array(identifier).optional(),
    transferred_classes: z.array(z.unknown()).optional(),
  })
  .strict();

/** wrangler's module types; Python ones are refused by name when the config is read. */
export const MODULE_RULE_TYPES = [
  "ESModule",
  "CommonJS",
  "CompiledWasm",
  "Text",
  "Data",
  "PythonModule",
  "PythonRequirement",
] as const;

const moduleRule = z
  .object({
    type: z.enum(MODULE_RULE_TYPES),
    globs: z.array(z.string().min(1)).min(1),
    fallthrough: z.boolean().optional(),
  })
  .strict();

/** A `services` entry: `env.<binding>` is the Worker named `service` (its `entrypoint` export, default: `default`). */
const serviceBinding = z
  .object({
    binding: identifier,
    service: z.string().min(1),
    entrypoint: identifier.optional(),
    environment: z.string().optional(),
  })
  .passthrough();

const d1 = z
  .object({ binding: identifier, database_name: z.string().optional(), database_id: z.string().optional() })
  .passthrough();
const r2 = z.object({ binding: identifier, bucket_name: z.string().optional() }).passthrough();
const kv = z
  .object({ binding: identifier, id: z.string().optional(), preview_id: z.string().optional() })
  .passthrough();

/** Seconds a message may wait before delivery (Miniflare's QueueMessageDelaySchema). */
const queueDelay = z.number().int("must be a whole number of seconds").min(0).max(86400);

/** wrangler's `queues` block (its validateQueues): producers bind a queue, consumers take its messages. */
const queues = z
  .object({
    producers: z
      .array(
        z
          .object({
            binding: identifier,
            queue: z.string().min(1, "required: the queue's name"),
            delivery_delay: queueDelay.optional(),
            remote: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    consumers: z
      .array(
        z
          .object({
            queue: z.string().min(1, "required: the queue's name"),
            type: z.literal("worker").optional(),
            max_batch_size: z.number().int().min(1).max(100).optional(),
            max_batch_timeout: z.number().min(0).max(60).optional(),
            max_retries: z.number().int().min(0).max(100).optional(),
            dead_letter_queue: z.string().min(1).optional(),
            max_concurrency: z.number().int().min(1).optional().nullable(),
            visibility_timeout_ms: z.number().optional(),
            retry_delay: queueDelay.optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();
/** A `send_email` binding: at most one of destination_address and allowed_destination_addresses (Miniflare's rule). */
const sendEmail = z
  .object({
    name: z.string().min(1, "required: the binding's name"),
    destination_address: z.string().min(1).optional(),
    allowed_destination_addresses: z.array(z.string()).optional(),
    allowed_sender_addresses: z.array(z.string()).optional(),
    remote: z.boolean().optional(),
  })
  .strict()
  .refine((e) => e.destination_address === undefined || e.allowed_destination_addresses === undefined, {
    message: "give destination_address or allowed_destination_addresses, not both",
  });
const workflow = z
  .object({
    name: z.string().min(1),
    binding: identifier,
    class_name: identifier,
    script_name: z.string().optional(),
  })
  .passthrough();

/** wrangler's `assets` block; the checks zod cannot word well are in `assetsSettings`. */
const assets = z
  .object({
    directory: z.string().optional(),
    binding: identifier.optional(),
    html_handling: z
      .enum(["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"])
      .optional(),
    not_found_handling: z.enum(["single-page-application", "404-page", "none"]).optional(),
    run_worker_first: z.union([z.boolean(), z.array(z.string())]).optional(),
  })
  .strict();

/**
 * The subset of wrangler's configuration Terrarium runs. Keys wrangler
 * knows but that do not change local behaviour (routes, observability,
 * placement, ...) are accepted and ignored; keys that would change what the
 * code sees and that Terrarium cannot honour are refused by name.
 */
const wranglerSchema = z
  .object({
    $schema: z.string().optional(),
    name: z
      .string()
      .regex(/^[a-z0-9_-]+$/i, "must be letters, digits, '-' or '_'")
      .optional(),
    main: z.string().min(1).optional(),
    compatibility_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD"),
    compatibility_flags: z.array(z.string()).optional(),
    durable_objects: z
      .object({ bindings: z.array(doBinding).optional() })
      .strict()
      .optional(),
    migrations: z.array(migration).optional(),
    vars: z.record(z.string(), z.unknown()).optional(),
    d1_databases: z.array(d1).optional(),
    r2_buckets: z.array(r2).optional(),
    kv_namespaces: z.array(kv).optional(),
    queues: queues.optional(),
    workflows: z.array(workflow).optional(),
    send_email: z.array(sendEmail).optional(),
    rules: z.array(moduleRule).optional(),
    define: z.record(z.string(), z.string()).optional(),
    alias: z.record(z.string(), z.string().min(1)).optional(),
    assets: assets.optional(),
    services: z.array(serviceBinding).optional(),
    env: z.record(z.string(), z.unknown()).optional(),
    /**
     * Cron triggers, read as wrangler reads them: an array; each expression
     * is checked by Cloudflare at deploy, not by wrangler dev (nor here).
     * Never run on their schedule locally: /cdn-cgi/handler/scheduled runs
     * the Worker's scheduled() handler (runtime/bindings/scheduled.ts).
     */
    triggers: z
      .object({
        crons: z
          .array(z.string({ error: "must be a cron expression (a string)" }), {
            error: "must be an array of cron expressions",
          })
          .optional(),
      })
      .passthrough()
      .nullable()
      .optional(),
  })
  .passthrough();

export type WranglerConfig = z.infer<typeof wranglerSchema>;

const UNSUPPORTED_KEYS: Record<string, string> = {};

export interface DurableObjectBinding {
  readonly binding: string;
  readonly className: string;
}

/**
 * A Durable Object binding to a class of another Worker of the project
 * (`script_name`): its objects live in that Worker, and ids derive from
 * that Worker's name.
 */
export interface ForeignDurableObjectBinding {
  readonly binding: string;
  readonly className: string;
  readonly scriptName: string;
}

/** A service binding (`services`): `env.<binding>` calls the Worker `service`, at its `entrypoint` export. */
export interface ServiceBinding {
  readonly binding: string;
  /** The name of the Worker called (this project's own, or one of the others given with -c). */
  readonly service: string;
  /** The named export called; null: the default export. */
  readonly entrypoint: string | null;
}

export interface WranglerOptions {
  /** The named environment (`--env`): its `env.<name>` section over the inherited top-level keys. */
  readonly env?: string | null;
  /** The config file to read (`-c`); default: the first of WRANGLER_FILES in the folder. */
  readonly configPath?: string;
}

/** A `[[rules]]` entry: how imports whose path matches `globs` load. */
export interface ModuleRule {
  readonly type: "ESModule" | "CommonJS" | "CompiledWasm" | "Text" | "Data";
  readonly globs: readonly string[];
  readonly fallthrough: boolean;
}

export interface Migration {
  readonly tag: string;
  readonly newClasses: readonly string[];
  readonly newSqliteClasses: readonly string[];
  readonly renamedClasses: readonly { from: string; to: string }[];
  readonly deletedClasses: readonly string[];
}

export type HtmlHandling = "auto-trailing-slash" | "force-trailing-slash" | "drop-trailing-slash" | "none";
export type NotFoundHandling = "single-page-application" | "404-page" | "none";

/** The project's static assets (wrangler's `assets`), resolved and checked. */
export interface AssetsSettings {
  /** Absolute path of the folder served. */
  readonly directory: string;
  /** The env binding (`env.ASSETS.fetch(request)`), if any. */
  readonly binding: string | null;
  readonly htmlHandling: HtmlHandling;
  readonly notFoundHandling: NotFoundHandling;
  /**
   * `run_worker_first`: true sends every request to the Worker first; a
   * list splits into the paths that go to the Worker first and the `!`
   * paths that always go to the assets (wrangler's static routing).
   */
  readonly runWorkerFirst:
    boolean | { readonly worker: readonly string[]; readonly assets: readonly string[] };
}

/** Where an assets-only project (no `main`) points `main`: an entry that is never called. */
export const NO_WORKER_MAIN = fileURLToPath(new URL("../assets/no-worker.ts", import.meta.url));

export interface WranglerProject {
  readonly configPath: string;
  /** The Worker's name; in a named environment, `<name>-<env>` unless the section names it. */
  readonly name: string;
  /** The top level's name (the Worker's name outside any environment). */
  readonly topLevelName: string;
  /** The named environment this config was read for (`--env`), or null for the top level. */
  readonly env: string | null;
  readonly services: readonly ServiceBinding[];
  /** What the user should know about how the config was read (wrangler's warnings), printed at start. */
  readonly notes: readonly string[];
  /** The entry module; NO_WORKER_MAIN for an assets-only project (see `hasWorker`). */
  readonly main: string;
  /** False for an assets-only project: every request is answered from the assets. */
  readonly hasWorker: boolean;
  readonly assets: AssetsSettings | null;
  readonly compatibilityDate: string;
  readonly compatibilityFlags: readonly string[];
  /** Bindings to this Worker's own classes. */
  readonly durableObjects: readonly DurableObjectBinding[];
  /** Bindings to classes of other Workers (`script_name`). */
  readonly foreignDurableObjects: readonly ForeignDurableObjectBinding[];
  readonly migrations: readonly Migration[];
  readonly vars: Readonly<Record<string, unknown>>;
  /** The project's own module rules, in order (wrangler's defaults come after them when bundling). */
  readonly rules: readonly ModuleRule[];
  /** Identifiers replaced in the code when bundling (`define`), as wrangler passes them to esbuild. */
  readonly define: Readonly<Record<string, string>>;
  /** Module specifiers bundled as other modules (`alias`); relative targets resolved from the config's folder. */
  readonly alias: Readonly<Record<string, string>>;
  readonly raw: WranglerConfig;
}

export function findWranglerConfig(dir: string): string | null {
  for (const f of WRANGLER_FILES) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  return null;
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

function parseText(path: string, text: string): unknown {
  const file = basename(path);
  if (path.endsWith(".toml")) {
    try {
      return parseToml(text);
    } catch (e) {
      if (e instanceof TomlError) {
        throw new ProjectError(e.message.split("\n")[0] ?? "invalid TOML", {
          file,
          line: e.line,
          column: e.column,
        });
      }
      throw e;
    }
  }
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: true });
  const first = errors[0];
  if (first) {
    throw new ProjectError(`invalid JSON: ${printParseErrorCode(first.error)}`, {
      file,
      ...lineCol(text, first.offset),
    });
  }
  return value;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join("");
}

/**
 * Reads and validates a project's wrangler config (in a named environment
 * when `opts.env` says so); throws ProjectError naming file and field (a
 * field of the environment's section as `env.<name>.<field>`).
 */
export function loadWranglerConfig(projectDir: string, opts: WranglerOptions = {}): WranglerProject {
  const configPath = opts.configPath ? resolve(opts.configPath) : findWranglerConfig(projectDir);
  if (!configPath) {
    throw new ProjectError(`no wrangler.jsonc, wrangler.json or wrangler.toml in ${resolve(projectDir)}`);
  }
  if (!existsSync(configPath)) throw new ProjectError(`no such config file: ${configPath}`);
  const file = basename(configPath);
  const text = parseText(configPath, readFileSync(configPath, "utf8")) as Record<string, unknown>;
  if (typeof text !== "object" || text === null || Array.isArray(text)) {
    throw new ProjectError("the config must be an object", { file });
  }
  const envName = opts.env ?? null;
  const fallbackName = basename(resolve(projectDir));
  let value = text as Record<string, unknown>;
  let fromSection: ReadonlySet<string> = new Set();
  const notes: string[] = [];
  if (envName !== null) {
    const r = resolveEnvironment(value, envName, file, fallbackName);
    value = r.value;
    fromSection = r.fromSection;
    notes.push(...r.notes);
  }
  /** A field as the user finds it: in the environment's section when it came from there. */
  const at = (field: string): string => {
    const root = /^[^.[]+/.exec(field)?.[0] ?? field;
    return envName !== null && fromSection.has(root) ? `env.${envName}.${field}` : field;
  };
  for (const [key, why] of Object.entries(UNSUPPORTED_KEYS)) {
    if (key in value) throw new ProjectError(why, { file, field: at(key) });
  }
  const parsed = wranglerSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ProjectError(issue.message, { file, field: at(fieldPath(issue.path) || "(root)") });
  }
  const cfg = parsed.data;
  const unexpected = Object.keys(cfg.triggers ?? {}).filter((k) => k !== "crons");
  if (unexpected.length > 0)
    // wrangler's warning (validateAdditionalProperties), the fields then ignored.
    notes.push(`Unexpected fields found in triggers field: ${unexpected.map((k) => `"${k}"`).join(",")}`);
  if ((cfg.triggers?.crons?.length ?? 0) > 0)
    // wrangler dev's warning for a Worker with crons.
    notes.push(
      "Scheduled Workers are not automatically triggered during local development. To trigger a scheduled event, send a request to /cdn-cgi/handler/scheduled (?cron=..&time=..).",
    );
  const name = cfg.name ?? fallbackName;
  const bindings: DurableObjectBinding[] = [];
  const foreignDurableObjects: ForeignDurableObjectBinding[] = [];
  const all = (cfg.durable_objects?.bindings ?? []).map((b) => {
    // script_name naming this Worker itself is what wrangler writes for an environment's own classes.
    if (b.script_name !== undefined && b.script_name !== name) {
      const foreign = { binding: b.name, className: b.class_name, scriptName: b.script_name };
      foreignDurableObjects.push(foreign);
      return foreign;
    }
    const own = { binding: b.name, className: b.class_name };
    bindings.push(own);
    return own;
  });
  const seen = new Set<string>();
  all.forEach((b, i) => {
    if (seen.has(b.binding)) {
      throw new ProjectError(`binding ${b.binding} is declared twice`, {
        file,
        field: at(`durable_objects.bindings[${i}].name`),
      });
    }
    seen.add(b.binding);
  });
  const vars = cfg.vars ?? {};
  for (const b of all) {
    if (b.binding in vars) {
      throw new ProjectError(`${b.binding} is both a var and a Durable Object binding`, {
        file,
        field: at(`vars.${b.binding}`),
      });
    }
  }
  const services = (cfg.services ?? []).map((s, i): ServiceBinding => {
    if (seen.has(s.binding) || s.binding in vars) {
      throw new ProjectError(`binding ${s.binding} is declared twice`, {
        file,
        field: at(`services[${i}].binding`),
      });
    }
    seen.add(s.binding);
    return { binding: s.binding, service: s.service, entrypoint: s.entrypoint ?? null };
  });
  const rules = (cfg.rules ?? []).map((r, i): ModuleRule => {
    if (r.type === "PythonModule" || r.type === "PythonRequirement") {
      throw new ProjectError("Python Workers are not supported", { file, field: at(`rules[${i}].type`) });
    }
    return { type: r.type, globs: r.globs, fallthrough: r.fallthrough ?? false };
  });
  checkMigrations(
    cfg.migrations ?? [],
    bindings.map((b) => b.className),
    file,
  );
  const assetsConfig = assetsSettings(projectDir, file, cfg);
  let main = NO_WORKER_MAIN;
  if (cfg.main !== undefined) {
    main = resolve(dirname(configPath), cfg.main);
    if (!existsSync(main)) {
      throw new ProjectError(`entry file ${cfg.main} does not exist`, { file, field: at("main") });
    }
  } else if (!assetsConfig) {
    throw new ProjectError(
      "required: the Worker's entry file (or an `assets` block, for an assets-only Worker)",
      {
        file,
        field: "main",
      },
    );
  } else if (bindings.length > 0) {
    throw new ProjectError("Durable Objects need a Worker: add `main`", {
      file,
      field: at("durable_objects.bindings"),
    });
  }
  return {
    configPath,
    name,
    topLevelName: typeof text.name === "string" ? text.name : fallbackName,
    env: envName,
    services,
    notes,
    main,
    hasWorker: cfg.main !== undefined,
    assets: assetsConfig,
    compatibilityDate: cfg.compatibility_date,
    compatibilityFlags: cfg.compatibility_flags ?? [],
    durableObjects: bindings,
    foreignDurableObjects,
    migrations: (cfg.migrations ?? []).map((m) => ({
      tag: m.tag,
      newClasses: m.new_classes ?? [],
      newSqliteClasses: m.new_sqlite_classes ?? [],
      renamedClasses: m.renamed_classes ?? [],
      deletedClasses: m.deleted_classes ?? [],
    })),
    vars,
    rules,
    define: cfg.define ?? {},
    alias: Object.fromEntries(
      Object.entries(cfg.alias ?? {}).map(([from, to]) => [
        from,
        to.startsWith(".") ? resolve(projectDir, to) : to,
      ]),
    ),
    raw: cfg,
  };
}

/**
 * Checks and resolves `assets` as wrangler does before it serves them:
 * the folder must exist, a binding and run_worker_first need a Worker, and
 * each run_worker_first rule is a path pattern ("/api/*", "!/api/docs/*").
 */
function assetsSettings(projectDir: string, file: string, cfg: WranglerConfig): AssetsSettings | null {
  const a = cfg.assets;
  if (!a) return null;
  if (a.directory === undefined || a.directory === "") {
    throw new ProjectError('required: the folder of static assets to serve, e.g. "./public"', {
      file,
      field: "assets.directory",
    });
  }
  const directory = resolve(projectDir, a.directory);
  const stat = statSync(directory, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) {
    throw new ProjectError(`${a.directory} ${stat ? "is not a folder" : "does not exist"}`, {
      file,
      field: "assets.directory",
    });
  }
  const hasWorker = cfg.main !== undefined;
  if (a.binding !== undefined && !hasWorker) {
    throw new ProjectError("an assets-only Worker (no `main`) has no env to bind; remove it or add `main`", {
      file,
      field: "assets.binding",
    });
  }
  if (
    a.binding !== undefined &&
    (a.binding in (cfg.vars ?? {}) || (cfg.durable_objects?.bindings ?? []).some((b) => b.name === a.binding))
  ) {
    throw new ProjectError(`binding ${a.binding} is declared twice`, { file, field: "assets.binding" });
  }
  let runWorkerFirst: AssetsSettings["runWorkerFirst"] = false;
  const rwf = a.run_worker_first;
  if (rwf !== undefined && rwf !== false) {
    if (!hasWorker) {
      throw new ProjectError("there is no Worker to run first: add `main` or remove this", {
        file,
        field: "assets.run_worker_first",
      });
    }
    if (rwf === true) runWorkerFirst = true;
    else {
      const worker: string[] = [];
      const assetsFirst: string[] = [];
      rwf.forEach((rule, i) => {
        if (!/^!?\//.test(rule)) {
          throw new ProjectError(
            `rule "${rule}" must start with "/" (or "!/" for paths that skip the Worker)`,
            {
              file,
              field: `assets.run_worker_first[${i}]`,
            },
          );
        }
        if (rule.startsWith("!")) assetsFirst.push(rule.slice(1));
        else worker.push(rule);
      });
      runWorkerFirst = { worker, assets: assetsFirst };
    }
  }
  return {
    directory,
    binding: a.binding ?? null,
    htmlHandling: a.html_handling ?? "auto-trailing-slash",
    notFoundHandling: a.not_found_handling ?? "none",
    runWorkerFirst,
  };
}

/** Whether the project opted into Node.js APIs (nodejs_compat). */
export function hasNodejsCompat(p: Pick<WranglerProject, "compatibilityFlags">): boolean {
  return p.compatibilityFlags.includes("nodejs_compat") || p.compatibilityFlags.includes("nodejs_compat_v2");
}
