// How long `terrarium serve` takes to exit after a signal, per situation.
//
//   node --import tsx bench/stop.ts [--runs N] [--cap MS] [--bin PATH] [--only TEXT]
//
// Each situation runs N times (default 3) on a fresh project and data folder
// (test/helpers/stuck-project.ts); the time is from the signal to the exit
// event, as the parent sees it. --bin measures another checkout's CLI (an
// older version, say); a run still alive after --cap ms (default 60000) is
// killed and reported as such. --only runs the situations whose name has
// TEXT. Linux only (the test helpers read /proc).

import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { until } from "../test/helpers/project.ts";
import { marked, stuckProject } from "../test/helpers/stuck-project.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    cap: { type: "string", default: "60000" },
    bin: { type: "string", default: resolve(import.meta.dirname, "..", "bin", "terrarium.js") },
    only: { type: "string" },
  },
});
const RUNS = Number(values.runs);
const CAP_MS = Number(values.cap);
const BIN = resolve(values.bin);

interface Running {
  child: ChildProcess;
  url: string;
  dataDir: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

async function serve(
  dir: string,
  dataDir: string,
  args: string[],
  stdin: "ignore" | "pipe",
): Promise<Running> {
  const child = spawn(
    process.execPath,
    [BIN, "serve", dir, "--port", "0", "--data", dataDir, "--quiet", ...args],
    { stdio: [stdin, "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((r) =>
    child.once("exit", (code) => r({ code, at: performance.now() })),
  );
  await until(() => /Ready on http/.test(out) || child.exitCode !== null, "serve to start or exit", 60_000);
  const url = /Ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  if (!url) throw new Error(`serve did not start:\n${out}\n${err}`);
  return { child, url, dataDir, stderr: () => err, exited };
}

interface Situation {
  name: string;
  args: string[];
  stdin?: "pipe";
  /** Puts the server in the situation (awaits until it is in it). */
  setup: (s: Running) => Promise<void>;
  /** Ends it: a signal, two, or stdin's end. */
  end: (s: Running) => Promise<void> | void;
}

const spin = async (s: Running): Promise<void> => {
  void fetch(`${s.url}/store/a/spin`).catch(() => {});
  await until(() => marked(s.dataDir, "Store", "spinning"), "the Store object to spin", 30_000);
};
const block = async (s: Running): Promise<void> => {
  void fetch(`${s.url}/gate/g/block`).catch(() => {});
  await until(() => marked(s.dataDir, "Gate", "blocked"), "the Gate object to block", 30_000);
};
const write = async (s: Running): Promise<void> => {
  const r = await fetch(`${s.url}/store/w/write?v=1`, { method: "POST" });
  if (r.status !== 200) throw new Error(`write answered ${r.status}`);
};
const sockets: WebSocket[] = [];
const socket = async (s: Running): Promise<void> => {
  const ws = new WebSocket(`${s.url.replace("http", "ws")}/room/r`);
  ws.on("error", () => {});
  sockets.push(ws);
  await new Promise((r) => ws.once("open", r));
};
const term = (s: Running): void => void s.child.kill("SIGTERM");

const SITUATIONS: Situation[] = [
  { name: "nothing in flight, SIGTERM", args: [], setup: write, end: term },
  { name: "open WebSocket, SIGTERM", args: [], setup: socket, end: term },
  { name: "spinning object, SIGTERM (default grace 5000)", args: [], setup: spin, end: term },
  { name: "spinning object, SIGTERM, --grace 1000", args: ["--grace", "1000"], setup: spin, end: term },
  { name: "blockConcurrencyWhile forever, SIGTERM (default grace 5000)", args: [], setup: block, end: term },
  {
    name: "blockConcurrencyWhile forever, SIGTERM, --grace 1000",
    args: ["--grace", "1000"],
    setup: block,
    end: term,
  },
  {
    name: "spinning object, SIGTERM, --cpu-limit 1000 --grace 60000",
    args: ["--cpu-limit", "1000", "--grace", "60000"],
    setup: spin,
    end: term,
  },
  {
    name: "spinning object, SIGTERM, --cpu-limit 1000 (default grace 5000)",
    args: ["--cpu-limit", "1000"],
    setup: spin,
    end: term,
  },
  {
    name: "spinning object, SIGINT twice (default grace 5000)",
    args: [],
    setup: spin,
    end: async (s) => {
      s.child.kill("SIGINT");
      // The first was taken once the router stops accepting.
      await until(
        () =>
          fetch(`${s.url}/nothing`).then(
            (r) => r.status === 503,
            () => true,
          ),
        "the router to stop accepting (a 503, or no answer)",
      );
      s.child.kill("SIGINT");
    },
  },
  {
    name: "spinning object, SIGINT twice, --grace 600000",
    args: ["--grace", "600000"],
    setup: spin,
    end: async (s) => {
      s.child.kill("SIGINT");
      // The first was taken once the router stops accepting.
      await until(
        () =>
          fetch(`${s.url}/nothing`).then(
            (r) => r.status === 503,
            () => true,
          ),
        "the router to stop accepting (a 503, or no answer)",
      );
      s.child.kill("SIGINT");
    },
  },
  {
    name: "nothing in flight, stdin closed (--exit-on-stdin-close)",
    args: ["--exit-on-stdin-close"],
    stdin: "pipe",
    setup: write,
    end: (s) => void s.child.stdin!.end(),
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

process.stdout.write(`terrarium serve: time from the signal to the exit (${RUNS} runs each, ${BIN})\n\n`);
for (const sit of SITUATIONS.filter((s) => values.only === undefined || s.name.includes(values.only))) {
  const times: number[] = [];
  const codes = new Set<string>();
  for (let i = 0; i < RUNS; i++) {
    const p = stuckProject();
    try {
      const s = await serve(p.dir, p.dataDir, sit.args, sit.stdin ?? "ignore");
      await sit.setup(s);
      const t0 = performance.now();
      await sit.end(s);
      const cap = setTimeout(() => s.child.kill("SIGKILL"), CAP_MS);
      const exit = await s.exited;
      clearTimeout(cap);
      if (exit.code === null) {
        codes.add(`killed after ${CAP_MS} ms`);
        times.push(Infinity);
      } else {
        codes.add(String(exit.code));
        times.push(exit.at - t0);
      }
      for (const ws of sockets.splice(0)) ws.terminate();
    } finally {
      p.cleanup();
    }
  }
  const fmt = (ms: number): string => (Number.isFinite(ms) ? `${Math.round(ms)}` : "never");
  process.stdout.write(
    `${sit.name.padEnd(62)} median ${fmt(median(times)).padStart(6)} ms  min ${fmt(Math.min(...times)).padStart(6)}  max ${fmt(Math.max(...times)).padStart(6)}  exit ${[...codes].join("/")}\n`,
  );
}
