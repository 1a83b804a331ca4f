// Queues under Terrarium and under workerd (Miniflare): how long a send
// takes, and how fast messages go from sendBatch to the consumer.
//   npx tsx bench/queues.ts [--messages N]
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTerrarium, startWorkerd, type RunningServer } from "../test/fidelity/harness.ts";

const PROJECT = join(fileURLToPath(new URL(".", import.meta.url)), "projects", "queues");
const flag = process.argv.indexOf("--messages");
const MESSAGES = flag > 0 ? Number(process.argv[flag + 1]) : 5_000;
const SINGLES = 200;

async function count(url: string): Promise<number> {
  return ((await (await fetch(`${url}/count`)).json()) as { delivered: number }).delivered;
}

async function run(name: string, start: (dir: string) => Promise<RunningServer>): Promise<void> {
  const server = await start(PROJECT);
  try {
    const url = server.url;
    // Warm-up: the first send starts the consumer.
    await fetch(`${url}/one`);
    while ((await count(url)) < 1) await new Promise((r) => setTimeout(r, 20));
    const times: number[] = [];
    for (let i = 0; i < SINGLES; i++) {
      const t0 = performance.now();
      await (await fetch(`${url}/one`)).text();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    while ((await count(url)) < 1 + SINGLES) await new Promise((r) => setTimeout(r, 20));
    const base = await count(url);
    const t0 = performance.now();
    for (let sent = 0; sent < MESSAGES; sent += 100) await (await fetch(`${url}/fill?n=100`)).text();
    const sentMs = performance.now() - t0;
    while ((await count(url)) < base + MESSAGES) await new Promise((r) => setTimeout(r, 10));
    const doneMs = performance.now() - t0;
    const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(2);
    console.log(
      `${name.padEnd(9)} send() request p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms | ` +
        `${MESSAGES} messages in batches of 100: sent in ${sentMs.toFixed(0)} ms, all delivered after ${doneMs.toFixed(0)} ms ` +
        `(${Math.round((MESSAGES / doneMs) * 1000)} msg/s)`,
    );
  } finally {
    await server.stop();
  }
}

await run("terrarium", startTerrarium);
await run("workerd", startWorkerd);
