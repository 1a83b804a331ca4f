// Builds better-sqlite3 for the installed Electron's ABI into
// node_modules/.cache/terrarium/better-sqlite3-electron-abi<N>/, beside the
// Node build `npm install` made (which the CLI and the tests keep using).
// Runs from postinstall when an Electron binary is present, and as
// `npm run rebuild:electron`. It compiles from source with node-gyp against
// Electron's headers (downloaded from electronjs.org), so it needs a
// compiler and that download; without them it says so and changes nothing.
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { electronBinary } from "./electron-binary.js";

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--if-electron");

function fail(message) {
  console.warn(`terrarium: ${message}`);
  process.exit(quiet ? 0 : 1);
}

const binary = electronBinary();
if (!binary) {
  if (quiet) process.exit(0);
  fail("no Electron binary is installed, so there is nothing to build better-sqlite3 for");
}

// The ABI and version as Electron itself reports them.
const probe = spawnSync(
  electronBinary,
  ["-e", "console.log(process.versions.electron, process.versions.modules)"],
  {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
    encoding: "utf8",
  },
);
const [version, abi] = (probe.stdout ?? "").trim().split(/\s+/);
if (!version || !abi) fail(`could not ask Electron for its version: ${probe.stderr || probe.error}`);

const dest = join(root, "node_modules", ".cache", "terrarium", `better-sqlite3-electron-abi${abi}`);
if (existsSync(join(dest, "better_sqlite3.node")) && !process.argv.includes("--force")) {
  console.log(`terrarium: better-sqlite3 for Electron ${version} (ABI ${abi}) is already built`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), "terrarium-sqlite-electron-"));
try {
  const pkg = dirname(require.resolve("better-sqlite3/package.json"));
  cpSync(pkg, work, { recursive: true, filter: (src) => !src.includes(`${pkg}/build`) });
  const gyp = join(
    dirname(process.execPath),
    "..",
    "lib",
    "node_modules",
    "npm",
    "node_modules",
    "node-gyp",
    "bin",
    "node-gyp.js",
  );
  const args = existsSync(gyp) ? [gyp] : [require.resolve("node-gyp/bin/node-gyp.js")];
  const r = spawnSync(
    process.execPath,
    [
      ...args,
      "rebuild",
      "--release",
      `--target=${version}`,
      "--runtime=electron",
      "--dist-url=https://electronjs.org/headers",
    ],
    { cwd: work, stdio: "inherit" },
  );
  if (r.status !== 0)
    fail(
      `building better-sqlite3 for Electron ${version} failed (see above); the desktop app cannot open databases until it builds`,
    );
  mkdirSync(dest, { recursive: true });
  copyFileSync(join(work, "build", "Release", "better_sqlite3.node"), join(dest, "better_sqlite3.node"));
  console.log(`terrarium: built better-sqlite3 for Electron ${version} (ABI ${abi}) into ${dest}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
