import { useRef, type KeyboardEvent } from "react";
import { useShallow } from "zustand/react/shallow";
import { useConnectionStore } from "./stores/connection.ts";
import { TABS, useUiStore, type Tab } from "./stores/ui.ts";
import { ConsoleView } from "./views/console/console-view.tsx";
import { DesignView } from "./views/design/design-view.tsx";
import { InspectorView } from "./views/inspector/inspector-view.tsx";
import { ExportView } from "./views/export/export-view.tsx";

const TAB_LABELS: Record<Tab, string> = {
  design: "Design",
  console: "Console",
  inspector: "Inspector",
  export: "Export",
};

const VIEWS: Record<Tab, () => React.JSX.Element> = {
  design: DesignView,
  console: ConsoleView,
  inspector: InspectorView,
  export: ExportView,
};

// Arrow keys move between tabs (the WAI-ARIA tabs pattern); the selected tab is
// the only one in the Tab order.
const KEY_STEPS: Partial<Record<string, (index: number) => number>> = {
  ArrowRight: (i) => (i + 1) % TABS.length,
  ArrowLeft: (i) => (i - 1 + TABS.length) % TABS.length,
  Home: () => 0,
  End: () => TABS.length - 1,
};

export function App() {
  const tab = useUiStore((s) => s.tab);
  const selectTab = useUiStore((s) => s.selectTab);
  const { connection, status, project, error } = useConnectionStore(
    useShallow((s) => ({ connection: s.connection, status: s.status, project: s.project, error: s.error })),
  );
  const tabRefs = useRef(new Map<Tab, HTMLButtonElement>());

  function onTabKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const step = KEY_STEPS[event.key];
    if (!step) return;
    event.preventDefault();
    const next = TABS[step(TABS.indexOf(tab))];
    if (next === undefined) return;
    selectTab(next);
    tabRefs.current.get(next)?.focus();
  }

  // NOTE: data-app-ready is the marker browser tests wait for: the engine is
  // reachable and has described its project.
  const ready = status === "open" && project !== null;
  const View = VIEWS[tab];
  return (
    <div className="app" data-app-ready={ready ? "true" : "false"}>
      <header className="app-header">
        <h1 className="app-title">Terrarium</h1>
        <div className="tabs" role="tablist" aria-label="Views" onKeyDown={onTabKeyDown}>
          {TABS.map((id) => (
            <button
              key={id}
              ref={(el) => {
                if (el) tabRefs.current.set(id, el);
                else tabRefs.current.delete(id);
              }}
              type="button"
              role="tab"
              id={`tab-${id}`}
              className="tab"
              aria-selected={tab === id}
              aria-controls={`panel-${id}`}
              tabIndex={tab === id ? 0 : -1}
              onClick={() => selectTab(id)}
            >
              {TAB_LABELS[id]}
            </button>
          ))}
        </div>
        <span className="app-project" title={project?.dir}>
          {project ? project.name : ""}
          {project?.env ? (
            <span
              className="app-env"
              data-testid="app-env"
              title={`wrangler environment "${project.env}" (--env ${project.env}): its vars, bindings and .dev.vars.${project.env}`}
            >
              env: {project.env}
            </span>
          ) : null}
          {project && project.workers.length > 1 ? (
            <span
              className="app-workers"
              data-testid="app-workers"
              title={project.workers.map((w) => `${w.name} (${w.configFile})`).join("\n")}
            >
              {project.workers.length} Workers
            </span>
          ) : null}
        </span>
        <span className={`app-host conn-${status}`}>
          {status === "lost" ? "Disconnected, retrying…" : (connection?.hostLabel ?? "")}
        </span>
      </header>
      {error ? <p className="error banner">{error}</p> : null}
      <main className="app-main" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {ready ? (
          <View />
        ) : (
          <p className="muted">{status === "lost" ? "Reconnecting…" : "Connecting to Terrarium…"}</p>
        )}
      </main>
    </div>
  );
}
