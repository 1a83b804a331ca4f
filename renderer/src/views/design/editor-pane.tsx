import { useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { isSecretsFile, maskDotenv } from "../../components/secrets.ts";
import { activeFile, savingReloads, useDesignStore } from "../../stores/design.ts";
import { CodeEditor } from "./code-editor.tsx";
import { FileTree } from "./file-tree.tsx";

const baseName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** The Design view's code: the project's files, the open ones in tabs, the editor, what the last save did. */
export function EditorPane() {
  const s = useDesignStore(
    useShallow((d) => ({
      files: d.files,
      tabs: d.tabs,
      path: d.path,
      reviewing: d.reviewing,
      status: d.status,
      update: d.update,
      buildError: d.buildError,
      openFile: d.openFile,
      closeFile: d.closeFile,
      setText: d.setText,
      save: d.save,
      cancelReview: d.cancelReview,
    })),
  );
  const file = activeFile(s);
  const dirty = new Set(s.tabs.filter((t) => t.text !== t.saved).map((t) => t.path));
  const isDirty = file !== null && dirty.has(file.path);
  const { update } = s;
  // Secrets files the user chose to see in clear (until they hide them again or reload the page).
  const [revealed, setRevealed] = useState<ReadonlySet<string>>(new Set());
  const secrets = file !== null && isSecretsFile(file.path);
  const masked = secrets && !revealed.has(file.path);
  const reveal = (path: string, on: boolean) =>
    setRevealed((r) => {
      const next = new Set(r);
      if (on) next.add(path);
      else next.delete(path);
      return next;
    });

  return (
    <section
      className="editor"
      aria-label="Code"
      onKeyDown={(e) => {
        // Ctrl+S anywhere in the pane (the diff's buttons, the tree) saves, as it does in the editor.
        if (!e.defaultPrevented && (e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
          e.preventDefault();
          void s.save();
        }
      }}
    >
      <FileTree
        files={s.files}
        active={s.path}
        dirty={dirty}
        failing={s.buildError?.file ?? null}
        onOpen={(p) => void s.openFile(p)}
      />
      <div className="editor-main">
        <div className="editor-tabs" role="tablist" aria-label="Open files">
          {s.tabs.map((t) => (
            <div key={t.path} className="editor-tab" aria-current={t.path === s.path ? "true" : undefined}>
              <button
                type="button"
                role="tab"
                aria-selected={t.path === s.path}
                title={t.path}
                onClick={() => void s.openFile(t.path)}
              >
                {baseName(t.path)}
                {dirty.has(t.path) ? (
                  <span className="dirty" aria-label="unsaved">
                    {" "}
                    ●
                  </span>
                ) : null}
              </button>
              <button
                type="button"
                className="close"
                aria-label={`Close ${t.path}`}
                onClick={() => s.closeFile(t.path)}
              >
                ×
              </button>
            </div>
          ))}
        </div>
        <div className="toolbar">
          <span className="mono small" data-testid="open-file">
            {file?.path ?? ""}
          </span>
          {isDirty ? <span className="warn">● unsaved</span> : null}
          {file && secrets && !masked ? (
            <button type="button" onClick={() => reveal(file.path, false)}>
              Hide values
            </button>
          ) : null}
          <span className="grow" />
          {s.reviewing && file ? (
            <>
              <span className="small" data-testid="review-note">
                Saved text on the left, yours on the right: saving reloads the project.
              </span>
              <button type="button" onClick={s.cancelReview}>
                Back to editing
              </button>
              <button type="button" className="primary" onClick={() => void s.save()}>
                Save and reload
              </button>
            </>
          ) : (
            <>
              <span className="muted small" data-testid="save-status">
                {s.status ??
                  (file && savingReloads(file.path)
                    ? "Ctrl+S shows the change, then saves it; the engine reloads the project."
                    : "Ctrl+S saves.")}
              </span>
              <button type="button" className="primary" disabled={!isDirty} onClick={() => void s.save()}>
                Save
              </button>
            </>
          )}
        </div>
        {update ? (
          <p className={update.ok ? "muted small" : "error"} data-testid="update-status" role="status">
            {update.ok
              ? `The engine reloaded the project: ${update.updated} live object${update.updated === 1 ? "" : "s"} on the new code (${update.durationMs} ms).`
              : `The engine refused the change; the previous code keeps serving. ${update.error ?? ""}`}
          </p>
        ) : null}
        {file && masked ? (
          <div className="secrets-masked" data-testid="secrets-masked">
            <p className="muted small">
              This file holds secrets: their values are hidden. The code gets them in <code>env</code>; the
              export lists their names for <code>wrangler secret put</code>, never their values.{" "}
              <button type="button" onClick={() => reveal(file.path, true)}>
                Reveal values to edit
              </button>
            </p>
            <pre className="file-preview mono" aria-label={`${file.path}, values hidden`}>
              {maskDotenv(file.text)}
            </pre>
          </div>
        ) : file ? (
          <CodeEditor
            file={file}
            reviewing={s.reviewing}
            buildError={s.buildError}
            typesVersion={update?.ok ? update.time : 0}
            onChange={(path, text) => {
              if (path === useDesignStore.getState().path) s.setText(text);
            }}
            onSave={() => void useDesignStore.getState().save()}
          />
        ) : (
          <p className="muted">Pick a class on the canvas, or a file on the left.</p>
        )}
      </div>
    </section>
  );
}
