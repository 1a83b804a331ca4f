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
  "renderer/ speaks to the engine only through the contract: `import type` from runtime/api.";
const noElectronCode =
  "renderer/ never imports electron/: the preload's API is typed by the contract (runtime/api).";

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
  {
    files: ["runtime/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            electronPackage,
            reactPackages,
            { regex: "^\\.{1,2}/(.*/)?(renderer|electron)/", message: "runtime/ is plain Node: no UI code." },
          ],
        },
      ],
    },
  },
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
            { regex: "^\\.{1,2}/(.*/)?runtime(/(?!api(/|\\.ts$|$))|$)", message: contractOnly },
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
