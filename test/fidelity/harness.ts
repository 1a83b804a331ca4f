import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { build } from "esbuild";
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { Miniflare } from "miniflare";
import { parse as parseToml } from "smol-toml";
import { runWsStep, type WsStep } from "./ws-steps.ts";
import { runCheck } from "../../runtime/export/validate.ts";

/**
 * The fidelity harness: runs one project under workerd (through Miniflare)
 * or under Terrarium (`terrarium serve`), and replays a request script
 * against either. Both runtimes start from empty storage, so a script's
 * responses are a function of the project code alone and must be equal.
 */

const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const TERRARIUM_BIN = join(REPO_ROOT, "bin", "terrarium.js");
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export const PROJECTS_DIR = fileURLToPath(new URL("./projects", import.meta.url));

export interface RunningServer {
  /** The server's origin; it can change after a restart. */
  readonly url: string;
  stop(): Promise<void>;
  /**
   * A `RESTART` step. Terrarium: stops `terrarium serve` (SIGTERM, as a user
   * does) and starts it again on the same data folder. workerd: nothing,
   * as under wrangler dev, whose Miniflare keeps its state while it runs
   * (the steps after a restart must answer as if nothing happened).
   */
  restart?(): Promise<void>;
}

/**
 * One step of a request script (`requests.json`). A step with method
 * `RESTART` sends nothing: it restarts the server (RunningServer.restart)
 * and records `{ restarted: true }`.
 */
export interface Step {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** A string is sent as is; anything else is sent as JSON. */
  readonly body?: unknown;
  /** Send this many copies at once; their responses are compared as a multiset. */
  readonly concurrent?: number;
  /**
   * Values to keep from this response's JSON body: variable name -> dotted
   * path ("token", "user.id"). Later steps use them as `{{name}}`, and every
   * recorded response shows them as `{{name}}`, so runs that mint different
   * tokens or ids still compare equal.
   */
  readonly capture?: Record<string, string>;
  /**
   * For what happens asynchronously (Event Bus deliveries, alarms): resend
   * the step every 100 ms, for up to 10 s, until the JSON body has `equals`
   * at the dotted `path` ("notifications.length", "total").
   */
  readonly until?: { readonly path: string; readonly equals: unknown };
  /** Response headers to record beside status, content type and body (lower case). */
  readonly responseHeaders?: readonly string[];
  /** This step's 5xx is the behaviour compared (a trigger's `exception` outcome), not a broken project. */
  readonly serverError?: true;
  /**
   * For a body written over time (Server-Sent Events): read it as it comes
   * until this many events (each ending in a blank line) have arrived, then
   * go away (abort the request). The body recorded is those events. A
   * server that sent the body only at its end never gets there.
   */
  readonly events?: number;
}

/** A captured value's source: `header:<name>` is a response header, anything else a dotted path into the JSON body. */
function captured(response: RecordedResponse, path: string): unknown {
  if (path.startsWith("header:")) return response.headers?.[path.slice("header:".length)] ?? undefined;
  return at(response.body, path);
}

function at(value: unknown, path: string): unknown {
  let v = value;
  for (const part of path.split(".")) v = isRecord(v) || Array.isArray(v) ? (v as never)[part] : undefined;
  return v;
}

async function sendUntil(baseUrl: string, step: Step): Promise<RecordedResponse> {
  const until = step.until;
  if (!until) return send(baseUrl, step);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await send(baseUrl, step);
    if (isDeepStrictEqual(at(response.body, until.path), until.equals) || Date.now() > deadline)
      return response;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RecordedResponse {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: unknown;
  /** The headers a step named in `responseHeaders` (null: absent). */
  readonly headers?: Record<string, string | null>;
  /** Its step said a 5xx is what it compares (Step.serverError). */
  readonly serverError?: true;
}

interface DurableObjectBinding {
  readonly name: string;
  readonly class_name: string;
}

/** wrangler's `assets` block, as the harness hands it to Miniflare. */
interface AssetsConfig {
  readonly directory: string;
  readonly binding?: string;
  readonly html_handling?: "auto-trailing-slash" | "force-trailing-slash" | "drop-trailing-slash" | "none";
  readonly not_found_handling?: "single-page-application" | "404-page" | "none";
  readonly run_worker_first?: boolean | string[];
}

interface WranglerProject {
  readonly name: string;
  /** Null for an assets-only project. */
  readonly assets: AssetsConfig | null;
  /** D1 binding -> database id (or name), R2 binding -> bucket name. */
  readonly d1Databases: Record<string, string>;
  readonly r2Buckets: Record<string, string>;
  readonly kvNamespaces: Record<string, string>;
  /** Analytics Engine binding -> its dataset. */
  readonly analyticsEngine: Record<string, { dataset: string }>;
  /** version_metadata's binding, if any. */
  readonly versionMetadata: string | null;
  /** Rate limiter binding -> its limit and period (`ratelimits`, or `unsafe.bindings` of type ratelimit). */
  readonly ratelimits: Record<string, { simple: { limit: number; period: number } }>;
  /** wrangler's `queues`, as wrangler dev hands them to Miniflare. */
  readonly queueProducers: Record<string, { queueName: string; deliveryDelay?: number }>;
  readonly queueConsumers: Record<string, Record<string, number | string>>;
  /** wrangler's `send_email` entries, as wrangler dev hands them to Miniflare. */
  readonly sendEmail: Record<string, unknown>[];
  /** Workflow binding -> its workflow's name and class (wrangler's `workflows`). */
  readonly workflows: Record<string, { name: string; className: string }>;
  /** Null for an assets-only project. */
  readonly main: string | null;
  readonly compatibilityDate: string;
  readonly compatibilityFlags: string[];
  readonly bindings: readonly DurableObjectBinding[];
  readonly sqliteClasses: ReadonlySet<string>;
  readonly vars: Record<string, unknown>;
  /** The config's module rules (`rules`), or null when it has none. */
  readonly rules: ModuleRule[] | null;
}

type ModuleRule = {
  type: "ESModule" | "CommonJS" | "Text" | "Data" | "CompiledWasm";
  globs: string[];
  fallthrough?: boolean;
};

/** wrangler's default module rules, which come after a project's own. */
const WRANGLER_DEFAULT_RULES: ModuleRule[] = [
  { type: "Text", globs: ["**/*.txt", "**/*.html", "**/*.sql"] },
  { type: "Data", globs: ["**/*.bin"] },
  { type: "CompiledWasm", globs: ["**/*.wasm", "**/*.wasm?module"] },
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** wrangler's `queues` block as wrangler dev turns it into Miniflare's options (its queueConsumerEntry). */
function queueOptions(queues: unknown): Pick<WranglerProject, "queueProducers" | "queueConsumers"> {
  const q = isRecord(queues) ? queues : {};
  const producers = Array.isArray(q.producers) ? q.producers.filter(isRecord) : [];
  const consumers = Array.isArray(q.consumers) ? q.consumers.filter(isRecord) : [];
  const defined = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<
      string,
      number | string
    >;
  return {
    queueProducers: Object.fromEntries(
      producers.map((p) => [
        String(p.binding),
        defined({ queueName: p.queue, deliveryDelay: p.delivery_delay }) as {
          queueName: string;
          deliveryDelay?: number;
        },
      ]),
    ),
    queueConsumers: Object.fromEntries(
      consumers.map((c) => [
        String(c.queue),
        defined({
          maxBatchSize: c.max_batch_size,
          maxBatchTimeout: c.max_batch_timeout,
          maxRetries: c.max_retries,
          deadLetterQueue: c.dead_letter_queue,
          retryDelay: c.retry_delay,
        }),
      ]),
    ),
  };
}

/** Reads `wrangler.jsonc`, or `wrangler.toml` where a project has that instead. */
export async function readProject(projectDir: string): Promise<WranglerProject> {
  const toml = join(projectDir, "wrangler.toml");
  const file = existsSync(toml) ? toml : join(projectDir, "wrangler.jsonc");
  const errors: ParseError[] = [];
  const text = await readFile(file, "utf8");
  const raw: unknown =
    file === toml ? parseToml(text) : parseJsonc(text, errors, { allowTrailingComma: true });
  const first = errors[0];
  if (first !== undefined) {
    throw new Error(`${file}: ${printParseErrorCode(first.error)} at offset ${first.offset}`);
  }
  if (
    !isRecord(raw) ||
    (typeof raw.main !== "string" && !isRecord(raw.assets)) ||
    typeof raw.compatibility_date !== "string"
  ) {
    throw new Error(`${file}: "main" (or "assets") and "compatibility_date" are required`);
  }
  let assets: AssetsConfig | null = null;
  if (isRecord(raw.assets)) {
    if (typeof raw.assets.directory !== "string") throw new Error(`${file}: assets.directory is required`);
    assets = {
      ...(raw.assets as unknown as AssetsConfig),
      directory: resolve(projectDir, raw.assets.directory),
    };
  }
  const durableObjects = isRecord(raw.durable_objects) ? raw.durable_objects : {};
  const bindings = (Array.isArray(durableObjects.bindings) ? durableObjects.bindings : []).map(
    (b: unknown) => {
      if (!isRecord(b) || typeof b.name !== "string" || typeof b.class_name !== "string") {
        throw new Error(`${file}: each durable_objects binding needs "name" and "class_name"`);
      }
      return { name: b.name, class_name: b.class_name };
    },
  );
  const migrations: unknown[] = Array.isArray(raw.migrations) ? raw.migrations : [];
  const sqliteClasses = new Set(
    migrations.flatMap((m) => (isRecord(m) ? stringArray(m.new_sqlite_classes) : [])),
  );
  const named = (list: unknown, key: string): Record<string, string> =>
    Object.fromEntries(
      (Array.isArray(list) ? list : []).flatMap((b: unknown) =>
        isRecord(b) && typeof b.binding === "string"
          ? [[b.binding, typeof b[key] === "string" ? b[key] : b.binding]]
          : [],
      ),
    );
  return {
    name: typeof raw.name === "string" ? raw.name : basename(projectDir),
    assets,
    d1Databases: named(raw.d1_databases, "database_id"),
    r2Buckets: named(raw.r2_buckets, "bucket_name"),
    kvNamespaces: named(raw.kv_namespaces, "id"),
    analyticsEngine: Object.fromEntries(
      Object.entries(named(raw.analytics_engine_datasets, "dataset")).map(([b, dataset]) => [b, { dataset }]),
    ),
    versionMetadata:
      isRecord(raw.version_metadata) && typeof raw.version_metadata.binding === "string"
        ? raw.version_metadata.binding
        : null,
    ratelimits: Object.fromEntries(
      [
        ...(Array.isArray(raw.ratelimits) ? raw.ratelimits : []),
        ...(isRecord(raw.unsafe) && Array.isArray(raw.unsafe.bindings)
          ? raw.unsafe.bindings.filter((b: unknown) => isRecord(b) && b.type === "ratelimit")
          : []),
      ].flatMap((r: unknown) =>
        isRecord(r) && typeof r.name === "string" && isRecord(r.simple)
          ? [[r.name, { simple: r.simple as { limit: number; period: number } }]]
          : [],
      ),
    ),
    ...queueOptions(raw.queues),
    sendEmail: Array.isArray(raw.send_email) ? raw.send_email.filter(isRecord) : [],
    workflows: Object.fromEntries(
      (Array.isArray(raw.workflows) ? raw.workflows : []).flatMap((w: unknown) =>
        isRecord(w) && typeof w.binding === "string" && typeof w.class_name === "string"
          ? [[w.binding, { name: typeof w.name === "string" ? w.name : w.binding, className: w.class_name }]]
          : [],
      ),
    ),
    main: typeof raw.main === "string" ? raw.main : null,
    compatibilityDate: raw.compatibility_date,
    compatibilityFlags: stringArray(raw.compatibility_flags),
    bindings,
    sqliteClasses,
    vars: isRecord(raw.vars) ? raw.vars : {},
    rules: Array.isArray(raw.rules) ? (raw.rules as ModuleRule[]) : null,
  };
}

/**
 * Bundles a project with `wrangler deploy --dry-run`, as it would be
 * uploaded (the module rules applied by wrangler itself), from a copy so
 * wrangler's scratch files stay out of the project. Returns the entry file.
 */
async function bundleWithWrangler(projectDir: string, outDir: string): Promise<string> {
  const copy = join(outDir, "project");
  await cp(projectDir, copy, { recursive: true });
  const dist = join(outDir, "dist");
  const r = await runCheck("dry-run", copy, { distDir: dist });
  if (r.code !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${r.output}`);
  return join(dist, "index.js");
}

export interface WorkerdOptions {
  /** A bundle built already (by `wrangler deploy --dry-run --outdir`); else main is bundled with esbuild. */
  readonly scriptPath?: string;
}

/**
 * wrangler's `assets` as Miniflare takes them (what wrangler dev passes):
 * run_worker_first becomes the router's settings, a list of rules split
 * into the Worker's and the `!` ones that go to the assets.
 */
function miniflareAssets(a: AssetsConfig, hasWorker: boolean) {
  const rules = Array.isArray(a.run_worker_first) ? a.run_worker_first : null;
  return {
    directory: a.directory,
    ...(a.binding === undefined ? {} : { binding: a.binding }),
    routerConfig: {
      has_user_worker: hasWorker,
      invoke_user_worker_ahead_of_assets: a.run_worker_first === true,
      ...(rules
        ? {
            static_routing: {
              user_worker: rules.filter((r) => !r.startsWith("!")),
              asset_worker: rules.filter((r) => r.startsWith("!")).map((r) => r.slice(1)),
            },
          }
        : {}),
    },
    assetConfig: {
      ...(a.html_handling === undefined ? {} : { html_handling: a.html_handling }),
      ...(a.not_found_handling === undefined ? {} : { not_found_handling: a.not_found_handling }),
    },
  };
}

/**
 * How a project is run, when it says (`fidelity.json` beside its config):
 * a named environment (`wrangler dev --env`) and more Workers (`wrangler
 * dev -c wrangler.jsonc -c <config>...`, paths relative to the project).
 */
export interface RunSettings {
  readonly env?: string;
  readonly workers?: readonly string[];
}

export async function readRunSettings(projectDir: string): Promise<RunSettings | null> {
  const file = join(projectDir, "fidelity.json");
  if (!existsSync(file)) return null;
  return JSON.parse(await readFile(file, "utf8")) as RunSettings;
}

/** terrarium serve's flags for a project's RunSettings. */
export function terrariumArgs(projectDir: string, run: RunSettings | null): string[] {
  if (!run) return [];
  const configs = [
    join(projectDir, "wrangler.jsonc"),
    ...(run.workers ?? []).map((w) => join(projectDir, w)),
  ];
  return [...(run.env ? ["--env", run.env] : []), ...configs.flatMap((c) => ["-c", c])];
}

/** Bundles a Worker's main module as wrangler does for workerd: ESM, `cloudflare:*` left to the runtime. */
async function bundleForWorkerd(
  main: string,
  outfile: string,
  define?: Record<string, string>,
): Promise<void> {
  await build({
    entryPoints: [main],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["cloudflare:*"],
    logLevel: "silent",
    ...(define ? { define } : {}),
  });
}

/**
 * Starts Miniflare with `options` and waits until it serves; stopping it
 * also removes `outDir` (its bundles). A Miniflare that fails to start is
 * disposed of before the error is thrown.
 */
async function serveMiniflare(
  options: ConstructorParameters<typeof Miniflare>[0],
  outDir: string,
): Promise<RunningServer> {
  // As wrangler dev runs it: /cdn-cgi/handler/email runs the Worker's email() handler.
  const mf = new Miniflare({ ...options, unsafeTriggerHandlers: true } as typeof options);
  let url: URL;
  try {
    url = await mf.ready;
  } catch (error) {
    await mf.dispose().catch(() => undefined);
    throw error;
  }
  return {
    url: url.origin,
    async stop() {
      await mf.dispose();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}

/**
 * Serves a project with RunSettings from workerd as wrangler dev would:
 * each config is read by wrangler itself (its environment rules, .dev.vars
 * and bindings, through its unstable_readConfig and
 * unstable_getMiniflareWorkerOptions), its main bundled with esbuild, and
 * all the Workers run in one Miniflare, the first serving requests.
 */
async function startWorkerdWorkers(
  projectDir: string,
  run: RunSettings,
  opts: WorkerdOptions,
): Promise<RunningServer> {
  const wrangler = await import("wrangler");
  const outDir = await mkdtemp(join(tmpdir(), "terrarium-fidelity-bundle-"));
  try {
    const configs = [
      join(projectDir, "wrangler.jsonc"),
      ...(run.workers ?? []).map((w) => join(projectDir, w)),
    ];
    const workers = await Promise.all(
      configs.map(async (config, i) => {
        const env = run.env;
        const cfg = wrangler.unstable_readConfig({ config, ...(env ? { env } : {}) });
        const { workerOptions, main } = wrangler.unstable_getMiniflareWorkerOptions(config, env);
        if (!main) throw new Error(`${config}: no main`);
        const given = i === 0 ? opts.scriptPath : undefined;
        const scriptPath = given ?? join(outDir, `worker-${i}.js`);
        if (!given) await bundleForWorkerd(main, scriptPath, cfg.define);
        return {
          ...workerOptions,
          name: cfg.name,
          modules: true,
          scriptPath,
          modulesRoot: dirname(scriptPath),
        };
      }),
    );
    return await serveMiniflare(
      {
        workers: workers as never,
        durableObjectsPersist: false,
        kvPersist: false,
        d1Persist: false,
        r2Persist: false,
        host: "127.0.0.1",
        port: 0,
      },
      outDir,
    );
  } catch (error) {
    await rm(outDir, { recursive: true, force: true });
    throw error;
  }
}

/** Bundles the project and serves it from workerd, with in-memory storage. */
export async function startWorkerd(projectDir: string, opts: WorkerdOptions = {}): Promise<RunningServer> {
  const run = await readRunSettings(projectDir);
  if (run) return startWorkerdWorkers(projectDir, run, opts);
  const project = await readProject(projectDir);
  const outDir = await mkdtemp(join(tmpdir(), "terrarium-fidelity-bundle-"));
  // A project with module rules is bundled by wrangler itself (the rules are what it tests).
  const byWrangler = !opts.scriptPath && project.rules !== null && project.main !== null;
  // An assets-only project has no bundle of its own (wrangler builds none).
  let scriptPath = (project.main !== null && opts.scriptPath) || join(outDir, "index.js");
  try {
    if (project.main === null) {
      // An assets-only Worker: workerd needs a script, the assets' router never calls it.
      await writeFile(
        scriptPath,
        "export default { fetch() { return new Response(null, { status: 500 }); } };\n",
      );
    } else if (byWrangler) scriptPath = await bundleWithWrangler(projectDir, outDir);
    else if (!opts.scriptPath) {
      await bundleForWorkerd(join(projectDir, project.main!), scriptPath);
    }
    return await serveMiniflare(
      {
        name: project.name,
        modules: true,
        scriptPath,
        modulesRoot: dirname(scriptPath),
        modulesRules: [...(project.rules ?? []), ...WRANGLER_DEFAULT_RULES].map((r) => ({
          type: r.type,
          include: r.globs,
          ...(r.fallthrough === undefined ? {} : { fallthrough: r.fallthrough }),
        })),
        compatibilityDate: project.compatibilityDate,
        compatibilityFlags: project.compatibilityFlags,
        durableObjects: Object.fromEntries(
          project.bindings.map((b) => [
            b.name,
            { className: b.class_name, useSQLite: project.sqliteClasses.has(b.class_name) },
          ]),
        ),
        bindings: project.vars as Record<string, string>,
        durableObjectsPersist: false,
        d1Databases: project.d1Databases,
        r2Buckets: project.r2Buckets,
        kvNamespaces: project.kvNamespaces,
        queueProducers: project.queueProducers,
        queueConsumers: project.queueConsumers,
        kvPersist: false,
        workflows: project.workflows,
        email: { send_email: project.sendEmail as never },
        ratelimits: project.ratelimits,
        analyticsEngineDatasets: project.analyticsEngine,
        ...(project.versionMetadata ? { versionMetadata: project.versionMetadata } : {}),
        workflowsPersist: false,
        d1Persist: false,
        r2Persist: false,
        ...(project.assets ? { assets: miniflareAssets(project.assets, project.main !== null) } : {}),
        host: "127.0.0.1",
        port: 0,
      },
      outDir,
    );
  } catch (error) {
    await rm(outDir, { recursive: true, force: true });
    throw error;
  }
}

/** Spawns `terrarium serve` on a free port with a fresh data directory; `restart` keeps the directory. */
export async function startTerrarium(projectDir: string): Promise<RunningServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "terrarium-fidelity-data-"));
  let running: { url: string; stop(): Promise<void> };
  try {
    running = await spawnTerrarium(projectDir, dataDir);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    get url() {
      return running.url;
    },
    async restart() {
      await running.stop();
      running = await spawnTerrarium(projectDir, dataDir);
    },
    async stop() {
      await running.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Spawns `terrarium serve` on a free port with `dataDir`; `stop` ends the process and leaves the directory. */
async function spawnTerrarium(
  projectDir: string,
  dataDir: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      TERRARIUM_BIN,
      "serve",
      projectDir,
      "--port",
      "0",
      "--data",
      dataDir,
      ...terrariumArgs(projectDir, await readRunSettings(projectDir)),
    ],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit();
    else child.once("exit", () => resolveExit());
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  };

  try {
    const port = await new Promise<number>((resolvePort, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        reject(new Error(`terrarium serve ${why}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
      };
      const timer = setTimeout(
        () => fail(`printed no "Ready on" line within ${READY_TIMEOUT_MS} ms`),
        READY_TIMEOUT_MS,
      );
      child.stdout.on("data", (chunk: string) => {
        stdout += chunk;
        const match = /Ready on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolvePort(Number(match[1]));
        }
      });
      child.once("error", (error) => fail(`could not be started: ${error.message}`));
      child.once("exit", (code, signal) =>
        fail(`exited before it was ready (code ${code}, signal ${signal})`),
      );
    });
    return { url: `http://127.0.0.1:${port}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A request sent as given, headers and all, answered as a Response (redirects not followed). */
function httpFetch(url: URL, init: { method: string; headers: Headers; body?: string }): Promise<Response> {
  return new Promise((resolveResponse, reject) => {
    const req = httpRequest(
      url,
      { method: init.method, headers: Object.fromEntries(init.headers) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.append(k, one);
          }
          const status = res.statusCode ?? 0;
          const nullBody = init.method === "HEAD" || [101, 204, 205, 304].includes(status);
          resolveResponse(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers }));
        });
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

/** Reads `count` Server-Sent Events as they arrive, then aborts the request (the client goes away). */
async function readEvents(baseUrl: string, step: Step, count: number): Promise<RecordedResponse> {
  const abort = new AbortController();
  const response = await fetch(new URL(step.path, baseUrl), {
    method: step.method,
    headers: new Headers(step.headers),
    signal: abort.signal,
  });
  const contentType = response.headers.get("content-type");
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let ended = false;
  try {
    while (text.split("\n\n").length <= count) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    abort.abort();
  }
  const events = text.split("\n\n").slice(0, count);
  return { status: response.status, contentType, body: { events, ended } };
}

async function send(baseUrl: string, step: Step): Promise<RecordedResponse> {
  if (step.method === "WS") return runWsStep(baseUrl, step as unknown as WsStep) as Promise<RecordedResponse>;
  if (step.events !== undefined) return readEvents(baseUrl, step, step.events);
  const headers = new Headers(step.headers);
  let body: string | undefined;
  if (typeof step.body === "string") {
    body = step.body;
  } else if (step.body !== undefined) {
    body = JSON.stringify(step.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  // Redirects are answers to compare (status and Location), not to follow.
  const init = {
    method: step.method,
    headers,
    redirect: "manual" as const,
    ...(body === undefined ? {} : { body }),
  };
  // fetch() sets the Sec-Fetch-* headers itself (Sec-Fetch-Mode: cors); a browser's navigation needs node:http.
  const response = [...headers.keys()].some((k) => k.startsWith("sec-fetch-"))
    ? await httpFetch(new URL(step.path, baseUrl), init)
    : await fetch(new URL(step.path, baseUrl), init);
  const contentType = response.headers.get("content-type");
  const text = await response.text();
  let parsed: unknown = text;
  if (contentType !== null && /^application\/json\b/i.test(contentType)) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { unparsableJson: text };
    }
  }
  const recorded: RecordedResponse = {
    status: response.status,
    contentType,
    body: parsed,
    ...(step.serverError ? { serverError: true as const } : {}),
  };
  if (!step.responseHeaders) return recorded;
  return {
    ...recorded,
    headers: Object.fromEntries(step.responseHeaders.map((h) => [h, response.headers.get(h)])),
  };
}

/** Puts captured values where a step says `{{name}}`. */
function substitute(step: Step, vars: ReadonlyMap<string, string>): Step {
  if (vars.size === 0) return step;
  const text = JSON.stringify(step).replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const v = vars.get(name);
    return v === undefined ? whole : JSON.stringify(v).slice(1, -1);
  });
  return JSON.parse(text) as Step;
}

/** Shows every captured value in a response as `{{name}}`. */
function redact(value: unknown, vars: ReadonlyMap<string, string>): unknown {
  if (typeof value === "string") {
    let out = value;
    for (const [name, v] of vars) if (v.length >= 6) out = out.split(v).join(`{{${name}}}`);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, vars));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, vars)]));
  return value;
}

/**
 * Replays `steps` in order and returns every response. The copies of a
 * `concurrent` step are sent at once and their responses sorted into a
 * canonical order, since which copy finishes first is up to the scheduler.
 */
export async function runScript(
  server: string | RunningServer,
  steps: readonly Step[],
): Promise<RecordedResponse[]> {
  const results: RecordedResponse[] = [];
  const vars = new Map<string, string>();
  for (const template of steps) {
    const baseUrl = typeof server === "string" ? server : server.url;
    if (template.method === "RESTART") {
      if (typeof server === "string") throw new Error("a RESTART step needs a server that restarts");
      await server.restart?.();
      results.push({ status: 0, contentType: null, body: { restarted: true } });
      continue;
    }
    const step = substitute(template, vars);
    if (step.capture || step.until) {
      const response = await sendUntil(baseUrl, step);
      for (const [name, path] of Object.entries(step.capture ?? {})) {
        const v = captured(response, path);
        if (v === undefined || v === null)
          throw new Error(`${step.method} ${step.path}: nothing at ${path} to capture`);
        vars.set(name, String(v));
      }
      results.push(response);
      continue;
    }
    const copies = step.concurrent ?? 1;
    if (copies <= 1) {
      results.push(await send(baseUrl, step));
      continue;
    }
    const batch = await Promise.all(Array.from({ length: copies }, () => send(baseUrl, step)));
    const keyed = batch.map((response) => ({ response, key: JSON.stringify(response) }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    results.push(...keyed.map((k) => k.response));
  }
  if (vars.size > 0) return results.map((r) => redact(r, vars) as RecordedResponse);
  return results;
}

export async function readSteps(projectDir: string): Promise<Step[]> {
  const raw: unknown = JSON.parse(await readFile(join(projectDir, "requests.json"), "utf8"));
  if (!Array.isArray(raw)) throw new Error(`${projectDir}/requests.json must be a JSON array of steps`);
  return raw.map((step: unknown, i) => {
    if (!isRecord(step) || typeof step.method !== "string" || typeof step.path !== "string") {
      throw new Error(`${projectDir}/requests.json step ${i} needs "method" and "path"`);
    }
    return step as unknown as Step;
  });
}

/** Starts a server, runs the project's script against it, and always stops it. */
export async function recordProject(
  start: (projectDir: string) => Promise<RunningServer>,
  projectDir: string,
): Promise<RecordedResponse[]> {
  const steps = await readSteps(projectDir);
  const server = await start(projectDir);
  try {
    return await runScript(server, steps);
  } finally {
    await server.stop();
  }
}
