// Runs after `npm install`. Electron's own install script is not allowed to
// run (package.json "allowScripts"), because it downloads a binary and fails
// the whole install on a machine with no route to the download host. We run
// it here instead and treat a failed download as "no desktop binary": the
// CLI, the web UI and the tests do not need it, and `npm start` says so.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

function electronInstallScript() {
  try {
    return require.resolve("electron/install.js");
  } catch {
    return null;
  }
}

const script = electronInstallScript();
if (script && process.env.ELECTRON_SKIP_BINARY_DOWNLOAD !== "1") {
  const r = spawnSync(process.execPath, [script], { stdio: "inherit", timeout: 300_000 });
  if (r.status !== 0) {
    console.warn(
      "terrarium: the Electron binary could not be downloaded; the desktop app is unavailable.\n" +
        "terrarium: `npm start` will open the same UI in your browser instead (terrarium ui).",
    );
  }
}
if (
  !existsSync(new URL("../node_modules/better-sqlite3/build/Release/better_sqlite3.node", import.meta.url))
) {
  console.warn("terrarium: better-sqlite3's native module is missing; run `npm rebuild better-sqlite3`.");
}
// The desktop app needs better-sqlite3 built for Electron's ABI as well;
// without an Electron binary there is nothing to do.
spawnSync(
  process.execPath,
  [new URL("./build-sqlite-electron.js", import.meta.url).pathname, "--if-electron"],
  {
    stdio: "inherit",
    timeout: 600_000,
  },
);
