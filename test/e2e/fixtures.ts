import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test as base, expect } from "@playwright/test";
import { ServiceRegistry } from "../../runtime/registry/registry.ts";
import { systemClock } from "../../runtime/shared/clock.ts";
import { AppPage } from "./pages/app-page.ts";
import { EXIT_WITH_TEST } from "../helpers/tied.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "terrarium.js");
export const SAMPLE = join(ROOT, "resources", "samples", "counter");
export const KITCHEN = join(ROOT, "test", "fixtures", "kitchen");
export const SOCKETS = join(ROOT, "test", "fixtures", "sockets");
export const WORKERS = join(ROOT, "test", "fixtures", "workers");
export const NOTES = join(ROOT, "test", "fixtures", "notes");
export const AWAKE = join(ROOT, "test", "fixtures", "awake");
export const TRACES = join(ROOT, "test", "fixtures", "traces");
export const SCREENSHOTS = join(ROOT, "test-results", "screenshots");
/** `npm run docs:screenshots` sets this: the README's pictures come from the same run. */
const DOCS_SCREENSHOTS =
  process.env["TERRARIUM_DOCS_SCREENSHOTS"] === "1" ? join(ROOT, "docs", "screenshots") : null;
/** The screenshots the README shows, one per view. */
const DOCS_SHOTS = new Set([
  "design-kitchen",
  "design-panel-class",
  "console",
  "inspector-10k",
  "object-hibernating",
  "object-storage",
  "object-logs",
  "object-events",
  "console-html-preview",
  "event-bus",
  "console-websocket",
  "console-load",
  "console-load-compare",
  "inspector-bucket",
  "inspector-kv",
  "inspector-rate-limits",
  "export-validated",
  "object-snapshots",
  "design-history",
  "why-awake-held",
  "why-awake-woke",
  "cost-run",
  "editor-completions",
  "editor-build-error",
  "traces-list",
  "traces-waterfall",
]);

export interface UiServer {
  readonly url: string;
  readonly routerUrl: string;
  readonly projectDir: string;
  readonly dataDir: string;
  output(): string;
}

/** Starts `terrarium ui` as a user would and waits for the line with its address. */
async function startUi(
  projectDir: string,
  dataDir: string,
  extra: readonly string[],
): Promise<{ server: UiServer; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [BIN, "ui", projectDir, "--port", "0", "--router-port", "0", "--data", dataDir, ...extra, EXIT_WITH_TEST],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const found = await new Promise<{ url: string; routerUrl: string }>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`terrarium ui did not start:\n${out}`)), 60_000);
    const check = (): void => {
      const ui = /UI on (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(out);
      const router = /Router on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (ui && router) {
        clearTimeout(timer);
        ok({ url: ui[1]!, routerUrl: router[1]! });
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`terrarium ui exited with ${code}:\n${out}`));
    });
  });
  return { server: { ...found, projectDir, dataDir, output: () => out }, child };
}

/**
 * Writes `n` hibernating Counter objects to the data folder's registry
 * through the registry itself, so the schema is whatever the engine uses.
 * Names are `user-00000` ...; the most recent is `user-00000`.
 */
function seedRegistry(dataDir: string, n: number): void {
  mkdirSync(dataDir, { recursive: true });
  const now = Date.now();
  const registry = ServiceRegistry.open(dataDir, systemClock);
  for (let i = 0; i < n; i++) {
    registry.create({
      id: createHash("sha256").update(`seed-${i}`).digest("hex"),
      className: "Counter",
      name: `user-${String(i).padStart(5, "0")}`,
      state: "Hibernating",
      createdAt: now - n * 1000,
      lastActive: now - i * 1000,
      requests: i % 97,
      storageBytes: 4096 * (1 + (i % 7)),
      lastError: null,
    });
  }
  registry.close();
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A change to a file of the copied project before Terrarium opens it. */
export interface SourceEdit {
  readonly file: string;
  readonly find: string;
  readonly replace: string;
}

export interface Fixtures {
  /** A private copy of the sample project and a fresh data folder, with `edits` applied to the copy. */
  project: { dir: string; dataDir: string };
  /** The project the test copies: the counter sample unless a test says otherwise. */
  source: string;
  edits: readonly SourceEdit[];
  /** Objects written to the registry before Terrarium starts, as a project that ran a while would have. */
  seedObjects: number;
  /** Extra flags for `terrarium ui`; `{project}` stands for the project's copy. */
  uiArgs: readonly string[];
  ui: UiServer;
  app: AppPage;
  /** Saves a screenshot of the page to test-results/screenshots (and docs/screenshots when asked). */
  shot: (name: string) => Promise<void>;
}

export const test = base.extend<Fixtures>({
  source: [SAMPLE, { option: true }],
  edits: [[], { option: true }],
  seedObjects: [0, { option: true }],
  uiArgs: [[], { option: true }],
  project: async ({ source, edits }, use) => {
    const root = mkdtempSync(join(tmpdir(), "terrarium-e2e-"));
    const dir = join(root, "project");
    cpSync(source, dir, { recursive: true, filter: (src) => !src.includes(".terrarium") });
    for (const e of edits) {
      const file = join(dir, e.file);
      const text = readFileSync(file, "utf8");
      if (!text.includes(e.find)) throw new Error(`${e.file} no longer contains ${JSON.stringify(e.find)}`);
      writeFileSync(file, text.replace(e.find, e.replace));
    }
    await use({ dir, dataDir: join(root, "data") });
    rmSync(root, { recursive: true, force: true });
  },
  ui: async ({ project, seedObjects, uiArgs }, use, testInfo) => {
    if (seedObjects > 0) seedRegistry(project.dataDir, seedObjects);
    // `{project}` in a flag is the project's copy (for -c paths).
    const args = uiArgs.map((a) => a.replaceAll("{project}", project.dir));
    const { server, child } = await startUi(project.dir, project.dataDir, args);
    await use(server);
    await stop(child);
    // What `terrarium ui` printed, next to the failure it may explain.
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach("terrarium-ui.log", { body: server.output(), contentType: "text/plain" });
    }
  },
  app: async ({ page, ui }, use) => {
    const app = new AppPage(page);
    await app.open(ui.url);
    await use(app);
  },
  shot: async ({ page }, use) => {
    await use(async (name) => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const path = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path });
      if (DOCS_SCREENSHOTS && DOCS_SHOTS.has(name)) {
        mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
        writeFileSync(join(DOCS_SCREENSHOTS, `${name}.png`), readFileSync(path));
      }
    });
  },
});

export { expect };
