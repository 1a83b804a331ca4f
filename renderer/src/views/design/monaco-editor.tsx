import { useEffect, useRef, useState } from "react";
import { api, errorText } from "../../stores/connection.ts";
import type { BuildError, OpenFile } from "../../stores/design.ts";
import { markBuildError, modelFor, monaco, syncProject } from "./monaco-setup.ts";

export interface MonacoEditorProps {
  readonly file: OpenFile;
  /** Show the file against its saved text (Monaco's diff editor) instead of editing it alone. */
  readonly reviewing: boolean;
  readonly buildError: BuildError | null;
  /** Changes when the engine reloaded the project: the types and sources are fetched again. */
  readonly typesVersion: number;
  readonly onChange: (path: string, text: string) => void;
  readonly onSave: () => void;
}

const OPTIONS: monaco.editor.IEditorOptions & monaco.editor.IGlobalEditorOptions = {
  automaticLayout: true,
  fontSize: 13,
  lineHeight: 18,
  tabSize: 2,
  minimap: { enabled: false },
  scrollBeyondLastLine: false,
  fixedOverflowWidgets: true,
};

/**
 * The code editor: Monaco with TypeScript's language service on the Workers
 * types, one model per file (so each tab keeps its undo history), a refused
 * build's error marked at its line, and the diff against the saved text
 * before a save that reloads the project. Loaded lazily (code-editor.tsx).
 */
export default function MonacoEditor(props: MonacoEditorProps) {
  const { file, reviewing, buildError, typesVersion } = props;
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const diff = useRef<monaco.editor.IStandaloneDiffEditor | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const [types, setTypes] = useState<"loading" | "loaded" | "failed">("loading");
  const [typesError, setTypesError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    syncProject(api(), typesVersion).then(
      () => {
        if (live) setTypes("loaded");
      },
      (e: unknown) => {
        if (!live) return;
        setTypes("failed");
        setTypesError(errorText(e));
      },
    );
    return () => {
      live = false;
    };
  }, [typesVersion]);

  // One editor (or diff editor) per mode; the model follows the open tab.
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const save = () => latest.current.onSave();
    const model = modelFor(latest.current.file.path, latest.current.file.text);
    // Edits reach the store for the file they were made in.
    const listen = (e: monaco.editor.ICodeEditor) =>
      e.onDidChangeModelContent(() => {
        const m = e.getModel();
        if (m) latest.current.onChange(m.uri.path.slice(1), m.getValue());
      });
    if (!reviewing) {
      const e = monaco.editor.create(el, {
        ...OPTIONS,
        model,
        theme: "vs-dark",
        ariaLabel: `Code of ${latest.current.file.path}`,
      });
      e.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, save);
      editor.current = e;
      const sub = e.onDidChangeModel(() =>
        e.updateOptions({ ariaLabel: `Code of ${latest.current.file.path}` }),
      );
      const change = listen(e);
      el.dataset["codeEditor"] = "ready";
      return () => {
        sub.dispose();
        change.dispose();
        e.dispose();
        editor.current = null;
        delete el.dataset["codeEditor"];
      };
    }
    const original = monaco.editor.createModel(latest.current.file.saved, model.getLanguageId());
    const d = monaco.editor.createDiffEditor(el, {
      ...OPTIONS,
      theme: "vs-dark",
      originalEditable: false,
      renderSideBySide: true,
      ariaLabel: `Changes to ${latest.current.file.path}`,
    });
    d.setModel({ original, modified: model });
    d.getModifiedEditor().addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, save);
    d.getModifiedEditor().focus();
    diff.current = d;
    const change = listen(d.getModifiedEditor());
    el.dataset["codeEditor"] = "diff";
    return () => {
      change.dispose();
      d.dispose();
      original.dispose();
      diff.current = null;
      delete el.dataset["codeEditor"];
    };
  }, [reviewing]);

  // The open tab: its model (made on first open), kept equal to the store's text.
  useEffect(() => {
    const model = modelFor(file.path, file.text);
    if (model.getValue() !== file.text) model.setValue(file.text);
    const e = editor.current;
    if (e && e.getModel() !== model) {
      e.setModel(model);
      e.focus();
    }
  }, [file.path, file.text]);

  useEffect(() => {
    markBuildError(buildError);
  }, [buildError, types]);

  return (
    <div
      className="code-editor monaco"
      ref={host}
      data-path={file.path}
      data-types={types}
      title={typesError ? `The Workers types could not be loaded: ${typesError}` : undefined}
    />
  );
}
