// `npm start`: build and open the desktop app, or, on a machine without the
// Electron binary (its download failed or was skipped), say so and open the
// same UI in a browser (`terrarium ui`). Extra arguments (`npm start -- ...`)
// go to the app: a project folder, and for `ui` its flags.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { electronBinary } from "./electron-binary.js";

const require = createRequire(import.meta.url);
const projectRoot = fileURLToPath(new URL("..", import.meta.url));

function run(command, args) {
  const child = spawn(command, args, { cwd: projectRoot, stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("error", (error) => {
    console.error(`terrarium: could not run ${command}: ${error.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const extraArgs = process.argv.slice(2);

if (electronBinary()) {
  // `electron-vite preview` builds main, preload and renderer, then starts Electron on out/.
  const electronVite = join(
    dirname(require.resolve("electron-vite/package.json")),
    "bin",
    "electron-vite.js",
  );
  run(process.execPath, [electronVite, "preview", ...(extraArgs.length ? ["--", ...extraArgs] : [])]);
} else {
  // The same UI in a browser: `terrarium ui` serves it on 127.0.0.1 and prints its address.
  const cli = join(projectRoot, "bin", "terrarium.js");
  const sample = join("resources", "samples", "aidevos");
  const args = ["ui", ...(extraArgs.length ? extraArgs : [sample])];
  console.warn(
    "terrarium: the Electron binary is not installed, so the desktop app cannot start.\n" +
      "terrarium: (its download failed or was skipped, e.g. ELECTRON_SKIP_BINARY_DOWNLOAD=1;\n" +
      "terrarium:  `node node_modules/electron/install.js` retries it.)\n" +
      `terrarium: opening the same UI in your browser instead: terrarium ${args.join(" ")}\n` +
      "terrarium: open the address printed below (it carries this launch's token).",
  );
  if (!existsSync(cli)) {
    console.error("terrarium: bin/terrarium.js is missing; nothing to fall back to.");
    process.exit(1);
  }
  run(process.execPath, [cli, ...args]);
}
