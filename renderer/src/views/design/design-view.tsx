import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";
import { useConnectionStore } from "../../stores/connection.ts";
import { useDesignStore } from "../../stores/design.ts";
import { useObjectsStore } from "../../stores/objects.ts";
import { useAddClassStore } from "../../stores/add-class.ts";
import { AddClassPanel } from "./add-class-panel.tsx";
import { EditorPane } from "./editor-pane.tsx";
import { DesignPanel } from "./design-panel.tsx";
import { Topology } from "./topology.tsx";

export function DesignView() {
  const { design, selectedClass, error, load, selectClass } = useDesignStore(
    useShallow((s) => ({
      design: s.design,
      selectedClass: s.selectedClass,
      error: s.error,
      load: s.load,
      selectClass: s.selectClass,
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
      <EditorPane />
    </div>
  );
}
