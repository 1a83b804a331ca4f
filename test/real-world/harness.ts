import { mkdtemp, readFile, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, type Loader } from "esbuild";
import { parse as parseJsonc } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import WebSocket from "ws";
import { openSqlite } from "../../runtime/shared/sqlite-native.ts";
import { readRunSettings, startWorkerd, terrariumArgs } from "../fidelity/harness.ts";
import { serve, type Served } from "../helpers/cli.ts";

/**
 * Runs a real-world project (npm dependencies, module rules, nodejs_compat)
 * under workerd (Miniflare) or under the real `terrarium serve`, behind one
 * interface, so a scenario is written once and its transcripts compared.
 */

export const PROJECTS_DIR = join(import.meta.dirname, "projects");

/** How long one awaited thing (an answer, a message, a state) may take before the step fails. */
export const STEP_TIMEOUT_MS = 10_000;

export interface Runtime {
  readonly kind: "workerd" | "terrarium";
  /** The server's origin; it changes after a restart. */
  readonly url: string;
  /**
   * Terrarium: stops `terrarium serve` and starts it again on the same data
   * folder. workerd keeps running: its objects' storage is as durable, and a
   * scenario closes its sockets first on both runtimes.
   */
  restart(): Promise<void>;
  /** Terrarium: resolves once every object of the class is Hibernating. workerd: at once. */
  hibernated(className: string): Promise<void>;
  stop(): Promise<void>;
  /** What the server printed (Terrarium), for failure messages. */
  output(): string;
}

interface RawConfig {
  main?: string;
  compatibility_flags?: string[];
  rules?: { type?: string; globs?: string[] }[];
}

async function readRawConfig(dir: string): Promise<RawConfig> {
  const toml = join(dir, "wrangler.toml");
  if (existsSync(toml)) return parseToml(await readFile(toml, "utf8")) as RawConfig;
  return parseJsonc(await readFile(join(dir, "wrangler.jsonc"), "utf8"), [], {
    allowTrailingComma: true,
  }) as RawConfig;
}

/** esbuild loaders for the project's Text and Data module rules (`**\/*.html` -> text). */
function ruleLoaders(config: RawConfig): Record<string, Loader> {
  const loaders: Record<string, Loader> = {};
  for (const rule of config.rules ?? []) {
    const loader = rule.type === "Text" ? "text" : rule.type === "Data" ? "binary" : null;
    if (!loader) continue;
    for (const glob of rule.globs ?? []) {
      const ext = /\*(\.[\w.]+)$/.exec(glob)?.[1];
      if (ext) loaders[ext] = loader;
    }
  }
  return loaders;
}

/**
 * Bundles the project as wrangler would for workerd: workerd's export
 * conditions, `cloudflare:*` and (with nodejs_compat) `node:*` left to the
 * runtime, Text and Data rules inlined.
 */
async function bundleForWorkerd(dir: string, outFile: string): Promise<void> {
  const config = await readRawConfig(dir);
  const nodeCompat = (config.compatibility_flags ?? []).some((f) => /^nodejs_compat/.test(f));
  await build({
    entryPoints: [join(dir, config.main ?? "src/index.ts")],
    outfile: outFile,
    bundle: true,
    format: "esm",
    platform: nodeCompat ? "node" : "neutral",
    mainFields: ["workerd", "worker", "browser", "module", "main"],
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    external: ["cloudflare:*", ...(nodeCompat ? ["node:*"] : [])],
    loader: ruleLoaders(config),
    logLevel: "silent",
  });
}

export async function startReference(dir: string): Promise<Runtime> {
  const outDir = await mkdtemp(join(tmpdir(), "terrarium-real-world-bundle-"));
  try {
    const scriptPath = join(outDir, "index.js");
    await bundleForWorkerd(dir, scriptPath);
    const server = await startWorkerd(dir, { scriptPath });
    return {
      kind: "workerd",
      url: server.url,
      restart: () => Promise.resolve(),
      hibernated: () => Promise.resolve(),
      async stop() {
        await server.stop();
        await rm(outDir, { recursive: true, force: true });
      },
      output: () => "",
    };
  } catch (error) {
    await rm(outDir, { recursive: true, force: true });
    throw error;
  }
}

/** Short lifecycle timeouts, so an object hibernates between two steps of a scenario. */
const TERRARIUM_FLAGS = ["--idle-after", "150", "--hibernate-after", "300", "--no-watch"];

export async function startTerrarium(dir: string): Promise<Runtime> {
  const dataDir = await mkdtemp(join(tmpdir(), "terrarium-real-world-data-"));
  // Several Workers (fidelity.json's `workers`) are given with -c, as to wrangler dev.
  const args = ["--data", dataDir, ...TERRARIUM_FLAGS, ...terrariumArgs(dir, await readRunSettings(dir))];
  let served: Served;
  let earlier = "";
  try {
    served = await serve(dir, args);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const runtime: Runtime = {
    kind: "terrarium",
    get url() {
      return served.url;
    },
    async restart() {
      earlier += served.output();
      const code = await served.stop();
      if (code !== 0) throw new Error(`terrarium serve exited with ${code} on SIGTERM:\n${runtime.output()}`);
      served = await serve(dir, args);
    },
    async hibernated(className) {
      const registry = join(dataDir, "registry.sqlite");
      await until(`every ${className} object Hibernating`, () => {
        const db = openSqlite(registry, { readonly: true, fileMustExist: true });
        try {
          const states = db
            .prepare("SELECT state FROM objects WHERE class_name = ?")
            .pluck()
            .all(className) as string[];
          return states.length > 0 && states.every((s) => s === "Hibernating");
        } finally {
          db.close();
        }
      });
    },
    async stop() {
      earlier += served.output();
      await served.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
    output: () => earlier + served.output(),
  };
  return runtime;
}

/** Polls a condition (every 25 ms) until it holds, failing with `what` after STEP_TIMEOUT_MS. */
export async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface HttpAnswer {
  status: number;
  contentType: string | null;
  body: unknown;
}

/** One HTTP request; a JSON body is parsed, any other is kept as text. */
export async function http(rt: Runtime, method: string, path: string, body?: string): Promise<HttpAnswer> {
  const response = await fetch(new URL(path, rt.url), {
    method,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  const contentType = response.headers.get("content-type");
  const text = await response.text();
  let parsed: unknown = text;
  if (contentType?.startsWith("application/json")) parsed = JSON.parse(text) as unknown;
  return { status: response.status, contentType, body: parsed };
}

/** A WebSocket client that queues what it receives, JSON parsed where it parses. */
export class Client {
  readonly #ws: WebSocket;
  readonly #queue: unknown[] = [];
  #wake: (() => void) | null = null;
  closed: { code: number; reason: string } | null = null;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const text = data.toString("utf8");
      let value: unknown = isBinary ? { binary: [...data] } : text;
      if (!isBinary) {
        try {
          value = JSON.parse(text) as unknown;
        } catch {
          // a text message that is not JSON stays text
        }
      }
      this.#queue.push(value);
      this.#wake?.();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake?.();
    });
  }

  /** Connects; rejects with the status and body when the server answers without upgrading. */
  static open(rt: Runtime, path: string): Promise<Client> {
    const ws = new WebSocket(new URL(path, rt.url.replace(/^http/, "ws")));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`WebSocket ${path}: no upgrade within ${STEP_TIMEOUT_MS} ms`));
      }, STEP_TIMEOUT_MS);
      const client = new Client(ws);
      ws.once("open", () => {
        clearTimeout(timer);
        resolve(client);
      });
      ws.once("unexpected-response", (_req, res) => {
        clearTimeout(timer);
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => reject(new Error(`WebSocket ${path}: HTTP ${res.statusCode}: ${body}`)));
      });
      ws.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  send(value: unknown): void {
    this.#ws.send(typeof value === "string" ? value : JSON.stringify(value));
  }

  /** The next message, waiting up to STEP_TIMEOUT_MS. */
  async next(): Promise<unknown> {
    return (await this.until(() => true)).at(-1);
  }

  /** Every message up to and including the first one that `done` accepts. */
  async until(done: (m: unknown) => boolean): Promise<unknown[]> {
    const taken: unknown[] = [];
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      while (this.#queue.length > 0) {
        const m = this.#queue.shift();
        taken.push(m);
        if (done(m)) return taken;
      }
      if (this.closed) throw new Error(`socket closed (${JSON.stringify(this.closed)}) after ${json(taken)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no awaited message within ${STEP_TIMEOUT_MS} ms; got ${json(taken)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  /** Messages received and not taken yet. */
  pending(): unknown[] {
    return [...this.#queue];
  }

  /** Sends a close frame (1000) without waiting for the server's answer. */
  startClose(): void {
    if (!this.closed) this.#ws.close(1000, "bye");
  }

  /** Closes (1000) and resolves with the close frame the server answered with. */
  async close(): Promise<{ code: number; reason: string }> {
    if (!this.closed) {
      this.#ws.close(1000, "bye");
      await until("the close handshake", () => this.closed !== null);
    }
    return this.closed!;
  }
}

function json(v: unknown): string {
  return JSON.stringify(v).slice(0, 2_000);
}

/** A scenario's record: what each step saw, by label. */
export type Transcript = [label: string, seen: unknown][];

/** Runs a scenario, returning its transcript so far with the error as the last entry when a step fails. */
export async function record(
  rt: Runtime,
  scenario: (rt: Runtime, note: (label: string, seen: unknown) => void) => Promise<void>,
): Promise<Transcript> {
  const transcript: Transcript = [];
  try {
    await scenario(rt, (label, seen) => transcript.push([label, seen]));
  } catch (e) {
    transcript.push(["FAILED", e instanceof Error ? e.message : String(e)]);
  }
  return transcript;
}

/** Starts the project under one runtime, runs the scenario, always stops; the server's output is kept for failures. */
export async function runUnder(
  start: (dir: string) => Promise<Runtime>,
  project: string,
  scenario: (rt: Runtime, note: (label: string, seen: unknown) => void) => Promise<void>,
): Promise<{ transcript: Transcript; output: string }> {
  const rt = await start(join(PROJECTS_DIR, project));
  try {
    const transcript = await record(rt, scenario);
    return { transcript, output: rt.output() };
  } finally {
    await rt.stop();
  }
}
