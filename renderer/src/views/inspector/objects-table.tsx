import { Fragment, useEffect, useMemo, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { ObjectSummary } from "../../../../runtime/api/contract.ts";
import { LIFECYCLE_STATES } from "../../../../runtime/shared/lifecycle-model.ts";
import { formatAgo, formatBytes, pluralize, shortId } from "../../components/format.ts";
import { StateBadge } from "../../components/state-badge.tsx";
import { VirtualList } from "../../components/virtual-list.tsx";
import { OBJECT_LIMIT, useObjectsStore, visibleObjects, type SortKey } from "../../stores/objects.ts";
import { useUiStore } from "../../stores/ui.ts";
import { ResetStateButton } from "./reset-state.tsx";
import { WorkerObjectsList } from "./worker-objects.tsx";

const COLUMNS: { key: SortKey; label: string; numeric?: boolean }[] = [
  { key: "className", label: "Class" },
  { key: "name", label: "Name / id" },
  { key: "state", label: "State" },
  { key: "inFlight", label: "In flight", numeric: true },
  { key: "requests", label: "Requests", numeric: true },
  { key: "storageBytes", label: "Storage", numeric: true },
  { key: "lastActive", label: "Last active", numeric: true },
];

const ROW_HEIGHT = 32;

/** Why a row's object is awake, or when it hibernates; a dash while it hibernates. */
function awakeText(o: ObjectSummary, now: number): string {
  if (!o.awake) return "—";
  if (o.awake.reason) return o.awake.reason;
  if (o.awake.hibernatesAt === null) return "awake";
  return `hibernates in ${Math.max(0, Math.round((o.awake.hibernatesAt - now) / 1000))}s`;
}

/** Re-renders every few seconds so "12s ago" stays true without live events. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export function ObjectsTable() {
  const { objects, classes, filter, sort, loaded, error } = useObjectsStore(
    useShallow((s) => ({
      objects: s.objects,
      classes: s.classes,
      filter: s.filter,
      sort: s.sort,
      loaded: s.loaded,
      error: s.error,
    })),
  );
  const setFilter = useObjectsStore((s) => s.setFilter);
  const sortBy = useObjectsStore((s) => s.sortBy);
  const openObject = useUiStore((s) => s.openObject);
  const now = useNow(1_000);
  const rows = useMemo(() => visibleObjects(objects, filter, sort), [objects, filter, sort]);

  const renderRow = (o: ObjectSummary) => (
    <button
      type="button"
      className="objects-grid object-row"
      data-testid="object-row"
      data-object-id={o.id}
      data-object-name={o.name ?? ""}
      onClick={() => openObject(o.id)}
    >
      <span role="cell">{o.className}</span>
      <span role="cell" className="object-name" title={o.id}>
        {o.name ?? <span className="muted">{shortId(o.id)}</span>}
        {o.name ? <span className="muted mono"> {shortId(o.id)}</span> : null}
      </span>
      <span role="cell">
        <StateBadge state={o.state} />
      </span>
      <span role="cell" className="num">
        {o.inFlight}
      </span>
      <span role="cell" className={o.awake?.reason ? "awake-reason" : "muted"} data-testid="awake-cell">
        {awakeText(o, now)}
      </span>
      <span role="cell" className="num">
        {o.requests.toLocaleString()}
      </span>
      <span role="cell" className="num">
        {formatBytes(o.storageBytes)}
      </span>
      <span role="cell" className="num" title={new Date(o.lastActive).toLocaleString()}>
        {formatAgo(o.lastActive, now)}
      </span>
    </button>
  );

  return (
    <section className="objects" aria-label="Objects">
      <div className="toolbar">
        <label>
          Class{" "}
          <select
            aria-label="Filter by class"
            value={filter.className}
            onChange={(e) => setFilter({ className: e.target.value })}
          >
            <option value="">All classes</option>
            {classes.map((c) => (
              <option key={c.className} value={c.className}>
                {c.className} ({c.objects})
              </option>
            ))}
          </select>
        </label>
        <label>
          State{" "}
          <select
            aria-label="Filter by state"
            value={filter.state}
            onChange={(e) => setFilter({ state: e.target.value })}
          >
            <option value="">All states</option>
            {LIFECYCLE_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <input
          type="search"
          className="grow"
          placeholder="Search by name or id"
          aria-label="Search objects"
          value={filter.search}
          onChange={(e) => setFilter({ search: e.target.value })}
        />
        <span className="muted" data-testid="object-count">
          {rows.length.toLocaleString()} of {pluralize(objects.length, "object")}
        </span>
        <ResetStateButton className={filter.className} />
      </div>
      {error ? <p className="error">{error}</p> : null}
      {objects.length >= OBJECT_LIMIT ? (
        <p className="muted">Showing the {OBJECT_LIMIT.toLocaleString()} most recently active objects.</p>
      ) : null}
      <div className="table" role="table" aria-label="Objects" aria-rowcount={rows.length + 1}>
        <div className="objects-grid table-head" role="row">
          {COLUMNS.map((c) => (
            <Fragment key={c.key}>
              {c.key === "requests" ? (
                <span role="columnheader" title="Why it is not hibernating, or when it will">
                  Awake because
                </span>
              ) : null}
              <button
                type="button"
                role="columnheader"
                className={c.numeric ? "num" : ""}
                aria-sort={sort.key === c.key ? (sort.dir === 1 ? "ascending" : "descending") : "none"}
                onClick={() => sortBy(c.key)}
              >
                {c.label}
                {sort.key === c.key ? (sort.dir === 1 ? " ▲" : " ▼") : ""}
              </button>
            </Fragment>
          ))}
        </div>
        <VirtualList
          items={rows}
          rowHeight={ROW_HEIGHT}
          rowKey={(o) => o.id}
          renderRow={renderRow}
          label="Object rows"
          className="objects-body"
          empty={
            !loaded ? (
              <p className="muted">Loading…</p>
            ) : objects.length > 0 ? (
              <p className="muted" data-testid="no-match">
                No object matches these filters ({pluralize(objects.length, "object")} in all).{" "}
                <button
                  type="button"
                  className="link"
                  onClick={() => setFilter({ className: "", state: "", search: "" })}
                >
                  Clear the filters
                </button>
              </p>
            ) : (
              <p className="muted">
                No objects yet. Send a request from the Console; each object appears here as it is created.
              </p>
            )
          }
        />
      </div>
      <WorkerObjectsList />
    </section>
  );
}
