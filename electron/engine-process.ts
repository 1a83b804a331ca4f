// The desktop app's engine, in an Electron utility process of its own
// (started by engine-host.ts): an object whose allocation aborts V8 ends
// this process, not the app's main process, which keeps the window and
// starts the engine again. No Electron API is used here: the parent's port
// is `process.parentPort`, which a plain Node child is given by a stand-in
// in the tests (test/unit/electron/engine-host.test.ts).
import { servePort } from "../runtime/api/port-api.ts";
import { CRASH_REPORT } from "../runtime/cli/crash.ts";
import type { Engine } from "../runtime/engine.ts";
import type { FromEngine, ToEngine } from "./engine-protocol.ts";
import { runtimeModule } from "./runtime-module.ts";

interface ParentPort {
  on(event: "message", listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error("engine-process runs as a utility process (process.parentPort is missing)");
const port = parentPort;
const post = (m: FromEngine): void => port.postMessage(m);

let appRoot = "";

let engine: Engine | null = null;
let served: ReturnType<typeof servePort> | null = null;
let stopping = false;

async function open(m: Extract<ToEngine, { type: "open" }>): Promise<void> {
  appRoot = m.appRoot;
  // Node's report on a fatal error names the thread (and so the object) that ended the process.
  // (Without it, as in a build of Electron whose Node has no report, the line names only the exit code.)
  const report = (process as { report?: NodeJS.ProcessReport }).report;
  if (report) {
    report.reportOnFatalError = true;
    report.directory = m.crashDir;
    report.filename = CRASH_REPORT;
  }
  if (process.versions.electron) {
    // better-sqlite3 as built for Electron's ABI (scripts/build-sqlite-electron.js), for this
    // process and every worker it starts.
    const native = await runtimeModule<typeof import("../runtime/shared/sqlite-native.ts")>(
      appRoot,
      "shared",
      "sqlite-native.ts",
    );
    process.env[native.SQLITE_BINDING_ENV] ??= native.electronBindingPath(appRoot, process.versions.modules);
  }
  const { Engine: EngineClass } = await runtimeModule<typeof import("../runtime/engine.ts")>(
    appRoot,
    "engine.ts",
  );
  const opened = await EngineClass.open({ projectDir: m.projectDir });
  engine = opened;
  for (const lifecycle of opened.lifecycles()) {
    lifecycle.watchWorkers((thread, object) => post({ type: "thread", thread, object }));
    for (const r of m.refuse) lifecycle.refuseOnce(r.id, r.message);
  }
  const actual =
    m.port === null
      ? await opened.listen(8787).catch(() => opened.listen(0))
      : await opened.listen(m.port).catch(() => opened.listen(0));
  // Saves from the Design view (and any editor) reload the project, as in `terrarium ui`.
  opened.watch();
  const { controlApi } = await runtimeModule<typeof import("../runtime/api/control-api.ts")>(
    appRoot,
    "api",
    "control-api.ts",
  );
  served = servePort(controlApi(opened), port);
  post({
    type: "ready",
    url: opened.url ?? `http://127.0.0.1:${actual}`,
    port: actual,
    projectDir: opened.project.dir,
    dataDir: opened.dataDir,
    memoryLimitMb: opened.lifecycle.options.memoryLimitMb,
  });
}

async function stop(graceMs: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  served?.close();
  let line: string | null = null;
  if (engine) {
    const report = await engine.close({ graceMs });
    const { cutShortLine } = await runtimeModule<typeof import("../runtime/engine.ts")>(appRoot, "engine.ts");
    line = cutShortLine(report);
  }
  // The host ends this process once it has the message (exiting here could lose it).
  post({ type: "stopped", line });
}

port.on("message", ({ data }) => {
  const m = data as ToEngine;
  if (m.type === "open") {
    // The host ends this process once it has the message.
    open(m).catch((e: unknown) =>
      post({ type: "failed", message: e instanceof Error ? e.message : String(e) }),
    );
  } else if (m.type === "stop") {
    stop(m.graceMs).catch((e: unknown) =>
      post({
        type: "stopped",
        line: `terrarium: error while stopping: ${e instanceof Error ? e.message : String(e)}`,
      }),
    );
  } else if (!stopping) {
    served?.onMessage(m);
  }
});
