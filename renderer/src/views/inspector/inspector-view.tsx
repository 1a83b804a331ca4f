import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";
import { useObjectsStore } from "../../stores/objects.ts";
import { useUiStore } from "../../stores/ui.ts";
import { BucketPage } from "./bucket-page.tsx";
import { DatabasePage } from "./database-page.tsx";
import { EmailPage } from "./email-page.tsx";
import { EventBusView } from "./event-bus.tsx";
import { KvPage } from "./kv-page.tsx";
import { AnalyticsPage, RateLimitsPage } from "./limits-page.tsx";
import { MockCallsView } from "./mock-calls.tsx";
import { ObjectPage } from "./object-page.tsx";
import { ObjectsTable } from "./objects-table.tsx";
import { QueuesView } from "./queues-view.tsx";
import { TracesPage } from "./traces-page.tsx";
import { WorkflowsPage } from "./workflows-page.tsx";

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
        <button type="button" aria-pressed={section === "traces"} onClick={() => showSection("traces")}>
          Traces
        </button>
        <button type="button" aria-pressed={section === "events"} onClick={() => showSection("events")}>
          Event bus
        </button>
        <button type="button" aria-pressed={section === "queues"} onClick={() => showSection("queues")}>
          Queues
        </button>
        <button type="button" aria-pressed={section === "database"} onClick={() => showSection("database")}>
          Database
        </button>
        <button type="button" aria-pressed={section === "bucket"} onClick={() => showSection("bucket")}>
          Bucket
        </button>
        <button type="button" aria-pressed={section === "kv"} onClick={() => showSection("kv")}>
          KV
        </button>
        <button
          type="button"
          aria-pressed={section === "ratelimits"}
          onClick={() => showSection("ratelimits")}
        >
          Rate limits
        </button>
        <button type="button" aria-pressed={section === "analytics"} onClick={() => showSection("analytics")}>
          Analytics
        </button>
        <button type="button" aria-pressed={section === "mocks"} onClick={() => showSection("mocks")}>
          Mock calls
        </button>
        <button type="button" aria-pressed={section === "workflows"} onClick={() => showSection("workflows")}>
          Workflows
        </button>
        <button type="button" aria-pressed={section === "email"} onClick={() => showSection("email")}>
          Email
        </button>
      </nav>
      {section === "traces" ? (
        <TracesPage />
      ) : section === "events" ? (
        <EventBusView />
      ) : section === "queues" ? (
        <QueuesView />
      ) : section === "database" ? (
        <DatabasePage />
      ) : section === "bucket" ? (
        <BucketPage />
      ) : section === "kv" ? (
        <KvPage />
      ) : section === "ratelimits" ? (
        <RateLimitsPage />
      ) : section === "analytics" ? (
        <AnalyticsPage />
      ) : section === "mocks" ? (
        <MockCallsView />
      ) : section === "workflows" ? (
        <WorkflowsPage />
      ) : section === "email" ? (
        <EmailPage />
      ) : selected ? (
        <ObjectPage id={selected} />
      ) : (
        <ObjectsTable />
      )}
    </div>
  );
}
