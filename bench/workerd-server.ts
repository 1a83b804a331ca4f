/**
 * The workerd side of the benchmark: a process of its own (forked by
 * bench/run.ts) that starts Miniflare on the bundled project and reports the
 * URL it serves on. Miniflare spawns workerd as a child of this process; the
 * requests go straight to workerd's socket.
 */
import { dirname } from "node:path";
import { Miniflare } from "miniflare";
import type { WorkerdConfig, WorkerdReply } from "./lib/protocol.ts";

const config = JSON.parse(process.argv[2] ?? "null") as WorkerdConfig | null;
if (!config) {
  process.stderr.write("usage: workerd-server.ts <json config>\n");
  process.exit(2);
}

function reply(msg: WorkerdReply): void {
  process.send?.(msg);
}

const mf = new Miniflare({
  name: config.name,
  modules: true,
  scriptPath: config.scriptPath,
  // The bundle lives in a temp dir: module paths are taken relative to it.
  modulesRoot: dirname(config.scriptPath),
  compatibilityDate: config.compatibilityDate,
  durableObjects: { COUNTER: { className: "Counter", useSQLite: true } },
  // On disk, like Terrarium's --data directory (Miniflare's default is a temp dir too).
  durableObjectsPersist: config.persistDir,
  host: "127.0.0.1",
  port: 0,
});

let stopping: Promise<void> | null = null;
function stop(code: number): void {
  stopping ??= mf.dispose().then(
    () => process.exit(code),
    () => process.exit(1),
  );
}

process.on("message", (m: unknown) => {
  if ((m as { type?: string } | null)?.type === "stop") stop(0);
});
process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(0));
process.on("disconnect", () => stop(0));

mf.ready.then(
  (url) => reply({ type: "ready", url: url.origin }),
  (e: unknown) => {
    reply({ type: "failed", error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    stop(1);
  },
);
