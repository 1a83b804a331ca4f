import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { controlApi } from "../api/control-api.ts";
import { defaultRendererDir, startWebBridge, type WebBridge } from "../api/web-bridge.ts";
import {
  exitOnStdinClose,
  fail,
  graceFlag,
  intFlag,
  lifecycleFlags,
  openFlags,
  REPO_ROOT,
  startEngine,
  stopOnSignals,
  usageError,
} from "./common.ts";
import { parseCommand } from "./commands.ts";
import { UI_TOKEN_ENV } from "./supervised.ts";

export const RENDERER_DIR = defaultRendererDir(REPO_ROOT);

/** Builds the renderer with electron-vite when no build is there yet (a fresh clone). */
function ensureRenderer(): void {
  if (existsSync(join(RENDERER_DIR, "index.html"))) return;
  process.stderr.write("terrarium: building the UI (electron-vite build)...\n");
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve("electron-vite/package.json")), "bin", "electron-vite.js");
  const r = spawnSync(process.execPath, [bin, "build"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (r.status !== 0 || !existsSync(join(RENDERER_DIR, "index.html"))) {
    fail("could not build the UI; run `npx electron-vite build` to see why");
  }
}

/** `terrarium ui`: the engine, its router, and the web twin of the desktop app. */
export async function ui(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("ui", argv);
  const open = openFlags(positionals, values);
  const graceMs = graceFlag(values.grace);
  const uiPort = intFlag(values.port, "port") ?? 0;
  const routerPort = intFlag(values["router-port"], "router-port") ?? 8787;
  if (uiPort > 65_535 || routerPort > 65_535) usageError("a port is at most 65535");
  const lifecycle = lifecycleFlags(values);

  ensureRenderer();
  // Saving a file from the Design view is a change like any other: the engine reloads.
  const { engine, supervisor } = await startEngine(open, lifecycle, values);

  const token = supervisor ? process.env[UI_TOKEN_ENV] : undefined;
  let bridge: WebBridge;
  try {
    const actual = await engine
      .listen(routerPort, "127.0.0.1", supervisor?.handles.get("router"))
      .catch((e: NodeJS.ErrnoException) => {
        if (e.code === "EADDRINUSE")
          throw new Error(`port ${routerPort} is in use; pick another with --router-port`);
        throw e;
      });
    process.stdout.write(`Router on http://127.0.0.1:${actual}\n`);
    bridge = await startWebBridge({
      api: controlApi(engine),
      staticDir: RENDERER_DIR,
      port: uiPort,
      connectOrigins: [`ws://127.0.0.1:${actual}`],
      // Supervised: the supervisor's socket and token, the same across restarts of this process.
      ...(token ? { token } : {}),
      handle: supervisor?.handles.get("ui"),
    }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") throw new Error(`port ${uiPort} is in use; pick another with --port`);
      throw e;
    });
  } catch (e) {
    await engine.close();
    fail(e instanceof Error ? e.message : String(e));
  }
  process.stdout.write(`UI on ${bridge.url}\n`);

  stopOnSignals({
    graceMs,
    // Supervised, the supervisor watches stdin and the parent.
    exitOnStdinClose: !supervisor && exitOnStdinClose(values["exit-on-stdin-close"]),
    stop: async () => {
      await bridge.close();
      return engine.close({ graceMs });
    },
  });
  // Only now: a SIGTERM the supervisor sends once it hears this must find the handler above.
  supervisor?.ready(bridge.port, engine.lifecycle.options.memoryLimitMb);
}
