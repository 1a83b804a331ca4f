import { useRef, type KeyboardEvent } from "react";
import { hostBridge } from "./bridge.ts";
import { TABS, useUiStore, type Tab } from "./stores/ui.ts";

const TAB_LABELS: Record<Tab, string> = {
  design: "Design",
  console: "Console",
  inspector: "Inspector",
};

// TODO(ui): placeholders until the views land.
const TAB_SUMMARIES: Record<Tab, string> = {
  design: "Objects, their topology, routes, subscriptions and policies.",
  console: "Requests, WebSockets and load profiles against the running project.",
  inspector: "Live objects, lifecycle transitions, storage, alarms, events and logs.",
};

// Arrow keys move between tabs (the WAI-ARIA tabs pattern); the selected tab is
// the only one in the Tab order.
const KEY_STEPS: Partial<Record<string, (index: number) => number>> = {
  ArrowRight: (i) => (i + 1) % TABS.length,
  ArrowLeft: (i) => (i - 1 + TABS.length) % TABS.length,
  Home: () => 0,
  End: () => TABS.length - 1,
};

function hostLabel(): string {
  const bridge = hostBridge();
  return bridge ? `Desktop · Electron ${bridge.versions.electron}` : "Browser";
}

export function App() {
  const tab = useUiStore((s) => s.tab);
  const selectTab = useUiStore((s) => s.selectTab);
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

  // NOTE: data-app-ready is the marker browser tests wait for; once the UI
  // talks to the engine it should appear only when that connection is up.
  return (
    <div className="app" data-app-ready="true">
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
        <span className="app-host">{hostLabel()}</span>
      </header>
      <main className="app-main" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        <h2>{TAB_LABELS[tab]}</h2>
        <p>{TAB_SUMMARIES[tab]}</p>
      </main>
    </div>
  );
}
