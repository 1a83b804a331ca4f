import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

/** Linux /proc readers: CPU time, RSS and the process tree. */

function clockTicks(): number {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

export const CLK_TCK = clockTicks();

interface Stat {
  pid: number;
  comm: string;
  ppid: number;
  /** user + system CPU time of the process (all its threads), in µs. */
  cpuMicros: number;
}

function parseStat(text: string, pid: number): Stat {
  // The command name may hold spaces and parentheses: split after the last ')'.
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const comm = text.slice(open + 1, close);
  const f = text
    .slice(close + 2)
    .trim()
    .split(" ");
  // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(f[1]);
  const ticks = Number(f[11]) + Number(f[12]);
  return { pid, comm, ppid, cpuMicros: (ticks * 1_000_000) / CLK_TCK };
}

export function readStat(pid: number): Stat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"), pid);
  } catch {
    return null;
  }
}

/** user+system CPU time of these processes together, in µs (processes gone since count as 0). */
export function cpuMicros(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += readStat(pid)?.cpuMicros ?? 0;
  return total;
}

/** Resident set size in bytes (VmRSS), 0 when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function totalRss(pids: readonly number[]): number {
  return pids.reduce((a, p) => a + rssBytes(p), 0);
}

/** Every live descendant of `root` (not `root` itself), found through the ppid chain in /proc/<pid>/stat. */
export function descendants(root: number): Stat[] {
  const all: Stat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.push(s);
  }
  const children = new Map<number, Stat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out: Stat[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

export interface ThreadCpu {
  tid: number;
  comm: string;
  cpuMicros: number;
}

/** CPU time per thread of one process (/proc/<pid>/task/<tid>/stat). */
export function threadCpu(pid: number): ThreadCpu[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: ThreadCpu[] = [];
  for (const t of tids) {
    try {
      const s = parseStat(readFileSync(`/proc/${pid}/task/${t}/stat`, "utf8"), Number(t));
      out.push({ tid: s.pid, comm: s.comm, cpuMicros: s.cpuMicros });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** How many threads one process has now (/proc/<pid>/task), 0 when it is gone. */
export function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}
