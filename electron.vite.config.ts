import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "electron-vite";

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, "out/main"),
      // The engine runs in a utility process of its own (electron/engine-host.ts): a second entry.
      rolldownOptions: {
        input: {
          index: resolve(root, "electron/main.ts"),
          "engine-process": resolve(root, "electron/engine-process.ts"),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, "out/preload"),
      // NOTE: a sandboxed preload cannot require anything but `electron` (and a
      // few polyfilled builtins), so it is one self-contained CommonJS file:
      // dependencies bundled, not externalized, and `.cjs` because the package
      // is "type": "module".
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(root, "electron/preload.ts") },
        output: { format: "cjs", entryFileNames: "[name].cjs", codeSplitting: false },
      },
    },
  },
  renderer: {
    root: resolve(root, "renderer"),
    // Relative asset URLs: the same files load from file:// in Electron and
    // from any path the web twin (`terrarium ui`) serves them under.
    base: "./",
    plugins: [react()],
    build: {
      outDir: resolve(root, "out/renderer"),
      rolldownOptions: { input: resolve(root, "renderer/index.html") },
    },
  },
});
