// `npm run test:repeat -- N [--busy K] [--unit-only]`: runs the test suite
// (vitest, then Playwright on one build of the app) N times in a row and
// prints which tests failed in which run, so a suspected flake is checked in
// one command. --busy K keeps K cores spinning in child processes for the
// whole time (a machine busy with something else: where races show).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    busy: { type: "string", default: "0" },
    "unit-only": { type: "boolean", default: false },
  },
});
const runs = Number(positionals[0] ?? "3");
const busy = Number(values.busy);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(busy) || busy < 0) {
  console.error("usage: npm run test:repeat -- N [--busy K] [--unit-only]   (N >= 1 runs, K >= 0 cores)");
  process.exit(2);
}

const out = "test-results/repeat";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const hogs = [];
for (let i = 0; i < busy; i++) {
  hogs.push(spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
}
const stopHogs = () => hogs.forEach((h) => h.kill("SIGKILL"));
process.on("exit", stopHogs);
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

function run(cmd, args) {
  const start = Date.now();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"], env: process.env });
  return { code: r.status ?? 1, seconds: (Date.now() - start) / 1000 };
}

/** Names of the failed tests in a vitest JSON report. */
function vitestFailures(file) {
  if (!existsSync(file)) return ["(vitest wrote no report)"];
  const report = JSON.parse(readFileSync(file, "utf8"));
  const failed = [];
  for (const f of report.testResults ?? []) {
    const tests = f.assertionResults ?? [];
    for (const t of tests)
      if (t.status === "failed") failed.push(`${f.name.replace(process.cwd() + "/", "")} > ${t.fullName}`);
    if (tests.length === 0 && f.status === "failed")
      failed.push(`${f.name} (the file failed to run: ${f.message ?? ""})`);
  }
  return failed;
}

/** Names of the failed tests in a Playwright JSON report. */
function playwrightFailures(file) {
  if (!existsSync(file)) return ["(playwright wrote no report)"];
  const report = JSON.parse(readFileSync(file, "utf8"));
  const failed = [];
  const walk = (suite, path) => {
    for (const spec of suite.specs ?? [])
      if (!spec.ok) failed.push(`${spec.file} > ${[...path, spec.title].join(" > ")}`);
    for (const s of suite.suites ?? [])
      walk(s, suite.title && !suite.title.endsWith(".ts") ? [...path, suite.title] : path);
  };
  for (const s of report.suites ?? []) walk(s, []);
  for (const e of report.errors ?? [])
    failed.push(`(playwright error) ${e.message ?? String(e)}`.slice(0, 300));
  return failed;
}

if (!values["unit-only"]) {
  const build = run("npx", ["electron-vite", "build"]);
  if (build.code !== 0) {
    console.error("test:repeat: the app did not build");
    process.exit(1);
  }
}

const tally = [];
for (let i = 1; i <= runs; i++) {
  console.log(
    `\n=== test:repeat: run ${i} of ${runs}${busy ? ` (${busy} busy core${busy === 1 ? "" : "s"})` : ""} ===`,
  );
  const dir = join(out, `run-${i}`);
  mkdirSync(dir, { recursive: true });
  const unit = run("npx", ["vitest", "run"]);
  if (existsSync("test-results/vitest.json"))
    copyFileSync("test-results/vitest.json", join(dir, "vitest.json"));
  const failed = vitestFailures(join(dir, "vitest.json"));
  let seconds = unit.seconds;
  if (!values["unit-only"]) {
    const e2e = run("npx", ["playwright", "test"]);
    seconds += e2e.seconds;
    if (existsSync("test-results/playwright.json"))
      copyFileSync("test-results/playwright.json", join(dir, "playwright.json"));
    failed.push(...playwrightFailures(join(dir, "playwright.json")));
    if (e2e.code !== 0 && failed.length === 0) failed.push(`(playwright exited ${e2e.code})`);
  }
  if (unit.code !== 0 && failed.length === 0) failed.push(`(vitest exited ${unit.code})`);
  tally.push({ run: i, seconds, failed });
}

console.log("\n=== test:repeat: summary ===");
for (const t of tally) {
  console.log(
    `run ${t.run}: ${t.failed.length === 0 ? "passed" : `${t.failed.length} failed`} in ${t.seconds.toFixed(0)} s`,
  );
  for (const f of t.failed) console.log(`  - ${f}`);
}
const bad = tally.filter((t) => t.failed.length > 0).length;
console.log(
  `${runs - bad} of ${runs} runs passed${busy ? ` with ${busy} core(s) kept busy` : ""}; reports in ${out}/`,
);
process.exit(bad === 0 ? 0 : 1);
