import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";
import { useObjectsStore } from "../../stores/objects.ts";
import { useUiStore } from "../../stores/ui.ts";
import { EventBusView } from "./event-bus.tsx";
import { ObjectPage } from "./object-page.tsx";
import { ObjectsTable } from "./objects-table.tsx";

export function InspectorView() {
  const { section, selected, showSection } = useUiStore(
    useShallow((s) => ({
      section: s.inspectorSection,
      selected: s.selectedObject,
      showSection: s.showSection,
    })),
  );
  const load = useObjectsStore((s) => s.load);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div className="inspector">
      <nav className="subtabs" aria-label="Inspector sections">
        <button type="button" aria-pressed={section === "objects"} onClick={() => showSection("objects")}>
          Objects
        </button>
        <button type="button" aria-pressed={section === "events"} onClick={() => showSection("events")}>
          Event bus
        </button>
      </nav>
      {section === "events" ? <EventBusView /> : selected ? <ObjectPage id={selected} /> : <ObjectsTable />}
    </div>
  );
}
