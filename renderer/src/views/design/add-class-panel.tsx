import { useShallow } from "zustand/react/shallow";
import { useAddClassStore } from "../../stores/add-class.ts";

/** Add an object class from one of the eight templates, as files in the project. */
export function AddClassPanel() {
  const s = useAddClassStore(
    useShallow((x) => ({
      templates: x.templates,
      picked: x.picked,
      className: x.className,
      binding: x.binding,
      adding: x.adding,
      result: x.result,
      error: x.error,
    })),
  );
  const { pick, edit, add, show } = useAddClassStore.getState();
  const template = s.templates.find((t) => t.id === s.picked) ?? null;

  return (
    <section className="add-class" aria-label="Add an object">
      <div className="toolbar">
        <h3>Add an object from a template</h3>
        <span className="grow" />
        <button type="button" className="link" onClick={() => void show(false)}>
          Close
        </button>
      </div>
      <div className="template-grid" role="list">
        {s.templates.map((t) => (
          <button
            key={t.id}
            type="button"
            role="listitem"
            className={`template-card ${s.picked === t.id ? "selected" : ""}`}
            aria-pressed={s.picked === t.id}
            onClick={() => pick(t.id)}
          >
            <strong>{t.kind}</strong>
            <span className="muted small">{t.description}</span>
          </button>
        ))}
      </div>
      {template ? (
        <form
          className="toolbar add-form"
          onSubmit={(e) => {
            e.preventDefault();
            void add();
          }}
        >
          <label>
            Class{" "}
            <input
              aria-label="Class name"
              className="mono"
              value={s.className}
              onChange={(e) => edit({ className: e.target.value })}
            />
          </label>
          <label>
            Binding env.
            <input
              aria-label="Binding"
              className="mono"
              value={s.binding}
              onChange={(e) => edit({ binding: e.target.value })}
            />
          </label>
          <button type="submit" className="primary" disabled={s.adding}>
            {s.adding ? "Adding…" : `Add ${template.kind}`}
          </button>
          <span className="muted small">
            {[
              template.routes.length ? `routes ${template.routes.map((r) => r.pattern).join(", ")}` : "",
              template.subscriptions.length
                ? `subscribes to ${template.subscriptions.map((x) => x.topic).join(", ")}`
                : "",
              template.uses.length ? `reads env.${template.uses.join(", env.")}` : "",
            ]
              .filter(Boolean)
              .join(" · ")}
          </span>
        </form>
      ) : null}
      {s.error ? <p className="error">{s.error}</p> : null}
      {s.result ? (
        <div className="add-result" data-testid="add-class-result" role="status">
          <p>
            Added {s.result.className} (env.{s.result.binding}): wrote {s.result.files.join(", ")}.
          </p>
          {s.result.notes.map((n) => (
            <p key={n} className="warn small">
              {n}
            </p>
          ))}
        </div>
      ) : null}
    </section>
  );
}
