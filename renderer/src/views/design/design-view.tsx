import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";
import { useConnectionStore } from "../../stores/connection.ts";
import { useDesignStore } from "../../stores/design.ts";
import { useObjectsStore } from "../../stores/objects.ts";
import { useAddClassStore } from "../../stores/add-class.ts";
import { AddClassPanel } from "./add-class-panel.tsx";
import { CodeEditor } from "./code-editor.tsx";
import { DesignPanel } from "./design-panel.tsx";
import { Topology } from "./topology.tsx";

export function DesignView() {
  const { design, files, selectedClass, path, saved, text, status, error, update } = useDesignStore(
    useShallow((s) => ({
      design: s.design,
      files: s.files,
      selectedClass: s.selectedClass,
      path: s.path,
      saved: s.saved,
      text: s.text,
      status: s.status,
      error: s.error,
      update: s.update,
    })),
  );
  const { load, selectClass, openFile, setText, save } = useDesignStore(
    useShallow((s) => ({
      load: s.load,
      selectClass: s.selectClass,
      openFile: s.openFile,
      setText: s.setText,
      save: s.save,
    })),
  );
  const project = useConnectionStore((s) => s.project);
  const addOpen = useAddClassStore((s) => s.open);
  const showAdd = useAddClassStore((s) => s.show);
  const classes = useObjectsStore((s) => s.classes);
  const loadObjects = useObjectsStore((s) => s.load);

  useEffect(() => {
    void load();
    void loadObjects();
  }, [load, loadObjects]);

  const dirty = text !== saved;
  return (
    <div className="design">
      {error ? <p className="error">{error}</p> : null}
      <div className="toolbar design-toolbar">
        <button type="button" onClick={() => void showAdd(!addOpen)} aria-expanded={addOpen}>
          + Add object
        </button>
        <span className="muted small">
          Click a class to edit its code, rename or delete it; routes, subscriptions and timeouts are in the
          panel on the right (saved to terrarium.json).
        </span>
      </div>
      {addOpen ? <AddClassPanel /> : null}
      <div className="design-main">
        <section className="canvas" aria-label="Topology">
          {design ? (
            <Topology
              design={design}
              project={project}
              classes={classes}
              selectedClass={selectedClass}
              onSelectClass={(c) => void selectClass(c)}
            />
          ) : (
            <p className="muted">Loading the project…</p>
          )}
        </section>
        {design ? <DesignPanel design={design} selectedClass={selectedClass} /> : null}
      </div>
      <section className="editor" aria-label="Code">
        <div className="toolbar">
          <select
            aria-label="File"
            value={path ?? ""}
            onChange={(e) => void openFile(e.target.value)}
            data-testid="file-select"
          >
            {path && !files.some((f) => f.path === path) ? <option value={path}>{path}</option> : null}
            {files.map((f) => (
              <option key={f.path} value={f.path}>
                {f.path}
              </option>
            ))}
          </select>
          {dirty ? <span className="warn">● unsaved</span> : null}
          <span className="grow" />
          <span className="muted small" data-testid="save-status">
            {status ?? "Ctrl+S saves; the engine reloads the project when its files change."}
          </span>
          <button type="button" className="primary" disabled={!dirty} onClick={() => void save()}>
            Save
          </button>
        </div>
        {update ? (
          <p className={update.ok ? "muted small" : "error"} data-testid="update-status" role="status">
            {update.ok
              ? `The engine reloaded the project: ${update.updated} live object${update.updated === 1 ? "" : "s"} on the new code (${update.durationMs} ms).`
              : `The engine refused the change; the previous code keeps serving. ${update.error ?? ""}`}
          </p>
        ) : null}
        {path ? (
          <CodeEditor label={`Code of ${path}`} value={text} onChange={setText} onSave={() => void save()} />
        ) : (
          <p className="muted">Pick a class on the canvas, or a file above.</p>
        )}
      </section>
    </div>
  );
}
