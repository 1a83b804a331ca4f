import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeJsonFile } from "../shared/json-file.ts";

/**
 * `<data>/serving.json` says which process has an engine open on a data
 * folder, so a second process (the CLI's restore and reset) can refuse to
 * replace files under it. A mark left by a process that died (kill -9) is
 * ignored: its pid no longer runs.
 */
export interface ServingInfo {
  pid: number;
  startedAt: number;
}

export interface ServingMark {
  release(): void;
}

function file(dataDir: string): string {
  return join(dataDir, "serving.json");
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function markServing(dataDir: string): ServingMark {
  const info: ServingInfo = { pid: process.pid, startedAt: Date.now() };
  writeJsonFile(file(dataDir), info);
  return {
    release() {
      // Only our own mark: another engine in this process may have marked the folder since.
      const now = servingInfo(dataDir);
      if (now && now.pid === info.pid && now.startedAt === info.startedAt)
        rmSync(file(dataDir), { force: true });
    },
  };
}

/** The process serving the data folder, or null when none (a stale mark counts as none). */
export function servingInfo(dataDir: string): ServingInfo | null {
  try {
    const info = JSON.parse(readFileSync(file(dataDir), "utf8")) as ServingInfo;
    if (typeof info.pid !== "number") return null;
    return running(info.pid) ? info : null;
  } catch {
    return null;
  }
}
