// @ts-check
import { builtinModules } from "node:module";
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

// The layering of the code base (see STYLE.md), held by one
// `no-restricted-imports` override per folder. typescript-eslint's version of
// the rule is used because it can allow `import type` from selected modules.
// NOTE: an import matching two patterns is reported twice, hence the negative
// lookaheads that carve the type-importable modules out of their folders.
const electronPackage = { regex: "^electron(/.*)?$", message: "Only electron/ talks to Electron." };
const reactPackages = { regex: "^react(-dom)?(/.*)?$", message: "React belongs to renderer/." };
const noNodeInRenderer = "renderer/ runs in a browser too: no Node modules.";
const contractOnly =
  "renderer/ speaks to the engine only through the contract: `import type` from runtime/api, and the plain data of RENDERER_SHARED.";
/**
 * The files of runtime/shared the renderer imports as values: plain data with
 * no imports at all (test/unit/lint/layers.test.ts checks that), so they run
 * in a browser as they do in Node.
 */
export const RENDERER_SHARED = ["lifecycle-model.ts", "object-kinds.ts"];
const noElectronCode =
  "renderer/ never imports electron/: the preload's API is typed by the contract (runtime/api).";

/**
 * runtime/ in layers, lowest first (docs/architecture.md draws them). A
 * folder imports only from its own layer and the layers below it, so no
 * import circle can form across folders. Each entry is a folder of
 * runtime/, or a file of it when it ends in ".ts".
 */
export const RUNTIME_LAYERS = [
  { name: "shared", folders: ["shared"] },
  { name: "config", folders: ["config"] },
  { name: "build", folders: ["workers-api", "build"] },
  { name: "bindings", folders: ["bindings", "assets"] },
  { name: "host", folders: ["host"] },
  { name: "registry and state", folders: ["registry", "state"] },
  { name: "lifecycle", folders: ["lifecycle"] },
  { name: "router, event bus, queues, workflows", folders: ["router", "event-bus", "queues", "workflows"] },
  { name: "engine", folders: ["engine.ts", "engine"] },
  { name: "tools", folders: ["design", "templates", "export", "load"] },
  { name: "api", folders: ["api"] },
  { name: "cli", folders: ["cli"] },
];

const runtimeBase = [
  electronPackage,
  reactPackages,
  { regex: "^\\.{1,2}/(.*/)?(renderer|electron)/", message: "runtime/ is plain Node: no UI code." },
];

/** A relative import that lands in runtime/<folder> from a file in another folder of runtime/. */
function importOf(folder) {
  const name = folder.replace(/\.ts$/, "").replace(/\./g, "\\.");
  const target = folder.endsWith(".ts") ? `${name}(\\.ts)?$` : `${name}(/|$)`;
  return `^(\\.\\./)+${target}`;
}

/** One `no-restricted-imports` block per layer of runtime/: nothing from the layers above it. */
function layerBlocks() {
  return RUNTIME_LAYERS.map((layer, i) => {
    const above = RUNTIME_LAYERS.slice(i + 1);
    const patterns = above.flatMap((upper) =>
      upper.folders.map((folder) => ({
        regex: importOf(folder),
        message: `runtime/ is layered (docs/architecture.md): ${layer.name} stands below ${upper.name}, so it never imports runtime/${folder}.`,
      })),
    );
    // runtime/engine.ts stands in runtime/ itself: its imports start with "./".
    if (layer.folders.includes("engine.ts")) {
      for (const upper of above)
        for (const folder of upper.folders)
          patterns.push({
            regex: `^\\./${folder.replace(/\./g, "\\.")}(/|$)`,
            message: `runtime/ is layered (docs/architecture.md): the engine is wiring only and never imports runtime/${folder} (${upper.name} stands on the engine).`,
          });
    }
    return {
      files: layer.folders.map((f) => (f.endsWith(".ts") ? `runtime/${f}` : `runtime/${f}/**`)),
      rules: {
        "@typescript-eslint/no-restricted-imports": ["error", { patterns: [...runtimeBase, ...patterns] }],
      },
    };
  });
}

export default defineConfig(
  globalIgnores([
    "out/",
    "**/node_modules/",
    "test/fidelity/projects/**",
    "test/real-world/projects/**",
    "test/reliability/corpus/**",
    "resources/samples/**",
    "resources/templates/**",
  ]),
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
    },
  },
  ...layerBlocks(),
  {
    files: ["electron/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            reactPackages,
            {
              regex: "^\\.{1,2}/(.*/)?renderer/",
              message: "electron/ loads the renderer bundle, never imports it.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["renderer/**"],
    languageOptions: { globals: globals.browser },
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: builtinModules.map((name) => ({ name, message: noNodeInRenderer })),
          patterns: [
            { regex: "^node:", message: noNodeInRenderer },
            electronPackage,
            {
              regex: `^\\.{1,2}/(.*/)?runtime(/(?!api(/|\\.ts$|$)|shared/(${RENDERER_SHARED.join("|").replace(/\./g, "\\.")})$)|$)`,
              message: contractOnly,
            },
            {
              regex: "^\\.{1,2}/(.*/)?runtime/api(/.*|\\.ts)?$",
              message: contractOnly,
              allowTypeImports: true,
            },
            { regex: "^\\.{1,2}/(.*/)?electron/", message: noElectronCode },
          ],
        },
      ],
    },
  },
);
