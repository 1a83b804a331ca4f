import { lazy, Suspense } from "react";
import type { MonacoEditorProps } from "./monaco-editor.tsx";

// NOTE: Monaco is a few megabytes of script: it is loaded (a dynamic import,
// its own chunk, its workers beside it) only when the editor is first shown,
// so the app's first paint does not wait for it.
const MonacoEditor = lazy(() => import("./monaco-editor.tsx"));

/** The code editor (Monaco), loaded on first use; a placeholder of the same size until then. */
export function CodeEditor(props: MonacoEditorProps) {
  return (
    <Suspense fallback={<div className="code-editor loading muted">Loading the editor…</div>}>
      <MonacoEditor {...props} />
    </Suspense>
  );
}
