// The web twin's first paint: `terrarium ui` on a copy of the AIDevOS sample,
// opened N times in fresh Chromium pages. Prints, per load and as medians:
// first contentful paint, the app-ready marker (connected, project
// described), the code shown in the editor (the textarea, or Monaco once it
// has loaded), and the bytes of script and CSS fetched before the app was
// ready. A benchmark, not a test: nothing is asserted. Needs a built renderer
// (`npx electron-vite build`).
//
//   npm run bench:ui-paint -- [--runs N]
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "@playwright/test";

const ROOT = resolve(import.meta.dirname, "..");
const { values } = parseArgs({ options: { runs: { type: "string", default: "10" } } });
const runs = Number(values.runs);

const root = mkdtempSync(join(tmpdir(), "terrarium-paint-"));
const dir = join(root, "project");
cpSync(join(ROOT, "resources", "samples", "aidevos"), dir, { recursive: true });
const child = spawn(
  process.execPath,
  [join(ROOT, "bin", "terrarium.js"), "ui", dir, "--port", "0", "--router-port", "0", "--quiet"],
  { stdio: ["ignore", "pipe", "inherit"] },
);
let out = "";
child.stdout.on("data", (d: Buffer) => (out += d.toString()));
const url = await new Promise<string>((ok, fail) => {
  child.stdout.on("data", () => {
    const m = /UI on (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(out);
    if (m) ok(m[1]!);
  });
  child.once("exit", (code) => fail(new Error(`terrarium ui exited with ${code}:\n${out}`)));
});

const browser = await chromium.launch({
  executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});

interface Sample {
  fcp: number;
  ready: number;
  code: number;
  bytesAtReady: number;
}
const samples: Sample[] = [];
try {
  for (let i = 0; i <= runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('[data-app-ready="true"]').waitFor();
    const ready = await page.evaluate(() => performance.now());
    // A string: this file is type-checked without the DOM library.
    const bytesAtReady = await page.evaluate<number>(
      `[...performance.getEntriesByType("resource"), ...performance.getEntriesByType("navigation")]
        .reduce((n, e) => n + (e.encodedBodySize || 0), 0)`,
    );
    await page.locator('[data-code-editor="ready"]').waitFor({ timeout: 60_000 });
    const code = await page.evaluate(() => performance.now());
    const fcp = await page.evaluate(
      () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Number.NaN,
    );
    await context.close();
    // The first load warms the server's file cache and the engine: not counted.
    if (i === 0) continue;
    const s = { fcp, ready, code, bytesAtReady };
    samples.push(s);
    console.log(
      `load ${i}: first paint ${fcp.toFixed(0)} ms, app ready ${ready.toFixed(0)} ms, ` +
        `code shown ${code.toFixed(0)} ms, ${(bytesAtReady / 1024).toFixed(0)} KiB before ready`,
    );
  }
} finally {
  await browser.close();
  child.kill("SIGTERM");
  await new Promise((ok) => child.once("exit", ok));
  rmSync(root, { recursive: true, force: true });
}

const median = (k: keyof Sample): number => {
  const v = samples.map((s) => s[k]).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)] ?? Number.NaN;
};
console.log(
  `median of ${samples.length}: first paint ${median("fcp").toFixed(0)} ms, app ready ${median("ready").toFixed(0)} ms, ` +
    `code shown ${median("code").toFixed(0)} ms, ${(median("bytesAtReady") / 1024).toFixed(0)} KiB fetched before ready`,
);
