// Monaco, set up once for the project: its language workers (bundled, loaded
// from the app's own origin), TypeScript with the Workers types and the
// project's Env, and one model per project source so imports between files
// type-check. Only the lazy editor chunk imports this file.
import * as monaco from "monaco-editor/editor";
import "monaco-editor/features/register.all";
import "monaco-editor/languages/definitions/typescript/register";
import "monaco-editor/languages/definitions/javascript/register";
import "monaco-editor/languages/definitions/markdown/register";
import "monaco-editor/languages/definitions/html/register";
import "monaco-editor/languages/definitions/css/register";
import "monaco-editor/languages/definitions/sql/register";
import * as json from "monaco-editor/languages/features/json/register";
import * as ts from "monaco-editor/languages/features/typescript/register";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import JsonWorker from "monaco-editor/language/json/json.worker?worker";
import TsWorker from "monaco-editor/language/typescript/ts.worker?worker";
import type { ControlApi } from "../../../../runtime/api/contract.ts";

export { monaco };

declare global {
  interface Window {
    MonacoEnvironment?: { getWorker(workerId: string, label: string): Worker };
  }
}

window.MonacoEnvironment = {
  getWorker(_id, label) {
    if (label === "typescript" || label === "javascript") return new TsWorker();
    if (label === "json") return new JsonWorker();
    return new EditorWorker();
  },
};

const LANGUAGES: readonly [RegExp, string][] = [
  [/\.(ts|tsx|mts|cts)$/, "typescript"],
  [/\.(js|jsx|mjs|cjs)$/, "javascript"],
  [/\.(json|jsonc)$/, "json"],
  [/\.md$/, "markdown"],
  [/\.html?$/, "html"],
  [/\.css$/, "css"],
  [/\.sql$/, "sql"],
];

export function languageOf(path: string): string {
  return LANGUAGES.find(([re]) => re.test(path))?.[1] ?? "plaintext";
}

export function uriOf(path: string): monaco.Uri {
  return monaco.Uri.file(`/${path}`);
}

/** The model of a project file, made with `text` when it has none yet. */
export function modelFor(path: string, text: string): monaco.editor.ITextModel {
  const uri = uriOf(path);
  return monaco.editor.getModel(uri) ?? monaco.editor.createModel(text, languageOf(path), uri);
}

/** The file the generated Env declaration stands for, as `wrangler types` names it. */
const ENV_FILE = "worker-configuration.d.ts";
const SOURCES = /\.(ts|tsx|mts|cts|js|jsx|mjs)$/;
const MAX_SOURCES = 300;
const MAX_SOURCE_BYTES = 512 * 1024;

let configured = false;

function configure(): void {
  if (configured) return;
  configured = true;
  ts.typescriptDefaults.setCompilerOptions({
    target: ts.ScriptTarget.ESNext,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.NodeJs,
    lib: ["esnext"],
    types: [],
    strict: true,
    noEmit: true,
    allowJs: true,
    allowNonTsExtensions: true,
    isolatedModules: true,
    allowImportingTsExtensions: true,
  });
  ts.typescriptDefaults.setEagerModelSync(true);
  json.jsonDefaults.setDiagnosticsOptions({ validate: true, allowComments: true, trailingCommas: "ignore" });
}

let synced: { version: number; done: Promise<void> } | null = null;

/**
 * Loads what TypeScript needs to check the project as `tsc` would with
 * wrangler's setup: @cloudflare/workers-types (the project's or
 * Terrarium's), the Env generated from the wrangler config (unless the
 * project keeps its own worker-configuration.d.ts, which is then one of its
 * files), and a model for every source file. Again for each new `version`
 * (the engine reloaded the project: its bindings or files may have changed).
 */
export function syncProject(api: ControlApi, version: number): Promise<void> {
  if (synced?.version === version) return synced.done;
  configure();
  const done = (async () => {
    const [types, files] = await Promise.all([api.editorTypes(), api.listFiles()]);
    const libs: { content: string; filePath: string }[] = [];
    if (types.workers) {
      libs.push({
        content: types.workers.text,
        filePath: "file:///node_modules/@cloudflare/workers-types/index.d.ts",
      });
    }
    if (!files.some((f) => f.path === ENV_FILE))
      libs.push({ content: types.env, filePath: `file:///${ENV_FILE}` });
    ts.typescriptDefaults.setExtraLibs(libs);
    ts.javascriptDefaults.setExtraLibs(libs);
    const sources = files
      .filter((f) => (SOURCES.test(f.path) || f.path.endsWith(".d.ts")) && f.bytes <= MAX_SOURCE_BYTES)
      .slice(0, MAX_SOURCES);
    await Promise.all(
      sources.map(async (f) => {
        if (monaco.editor.getModel(uriOf(f.path))) return;
        const file = await api.readFile(f.path).catch(() => null);
        if (file) modelFor(file.path, file.text);
      }),
    );
  })();
  synced = { version, done };
  return done;
}

const BUILD_OWNER = "terrarium-build";

/** Marks a refused build's error at its line (and clears the marks when there is none). */
export function markBuildError(
  error: { file: string; line: number; column: number; message: string } | null,
): void {
  for (const model of monaco.editor.getModels()) {
    if (monaco.editor.getModelMarkers({ owner: BUILD_OWNER, resource: model.uri }).length > 0) {
      monaco.editor.setModelMarkers(model, BUILD_OWNER, []);
    }
  }
  if (!error) return;
  const model = monaco.editor.getModel(uriOf(error.file));
  if (!model) return;
  const line = Math.min(Math.max(error.line, 1), model.getLineCount());
  monaco.editor.setModelMarkers(model, BUILD_OWNER, [
    {
      severity: monaco.MarkerSeverity.Error,
      source: "esbuild",
      message: error.message,
      startLineNumber: line,
      startColumn: error.column,
      endLineNumber: line,
      endColumn: Math.max(model.getLineMaxColumn(line), error.column + 1),
    },
  ]);
}
