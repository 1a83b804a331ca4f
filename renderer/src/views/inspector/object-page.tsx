import { useEffect, useMemo } from "react";
import { useShallow } from "zustand/react/shallow";
import type { LogEntry, TransitionRecord } from "../../../../runtime/api/contract.ts";
import { formatBytes, formatTime, pluralize } from "../../components/format.ts";
import { ResultPager, ResultTable, SqlEditor } from "../../components/query-result.tsx";
import { StateBadge } from "../../components/state-badge.tsx";
import { VirtualList } from "../../components/virtual-list.tsx";
import { PAGE_ROWS, useObjectDetailStore } from "../../stores/object-detail.ts";
import { WhyAwakeCard } from "./why-awake.tsx";
import { useUiStore, type ObjectPanel } from "../../stores/ui.ts";
import { StateDiagram } from "./state-diagram.tsx";
import { EventsPanel, RequestPanel, SocketsPanel } from "./object-panels.tsx";
import { SnapshotsPanel } from "./snapshots-panel.tsx";
import { useSnapshotsStore } from "../../stores/snapshots.ts";

const PANELS: { id: ObjectPanel; label: string }[] = [
  { id: "lifecycle", label: "Lifecycle" },
  { id: "storage", label: "Storage" },
  { id: "snapshots", label: "Snapshots" },
  { id: "sockets", label: "Sockets" },
  { id: "events", label: "Events" },
  { id: "request", label: "Send request" },
  { id: "alarms", label: "Alarms" },
  { id: "logs", label: "Logs" },
];

/** The panels of another Worker's object (-c): what reads its registry and its files. */
/**
 * Another Worker's (-c) object: its sockets and Event Bus deliveries are the
 * project Worker's router and bus, so those panels are left out.
 */
const FOREIGN_PANELS: readonly ObjectPanel[] = [
  "lifecycle",
  "storage",
  "snapshots",
  "request",
  "alarms",
  "logs",
];

export function ObjectPage({ id }: { readonly id: string }) {
  const open = useObjectDetailStore((s) => s.open);
  const { summary, error, busy } = useObjectDetailStore(
    useShallow((s) => ({ summary: s.summary, error: s.error, busy: s.busy })),
  );
  const hibernate = useObjectDetailStore((s) => s.hibernate);
  const terminate = useObjectDetailStore((s) => s.terminate);
  const { panel, showPanel, openObject } = useUiStore(
    useShallow((s) => ({ panel: s.objectPanel, showPanel: s.showPanel, openObject: s.openObject })),
  );

  useEffect(() => {
    void open(id);
  }, [id, open]);
  const openSnapshots = useSnapshotsStore((s) => s.open);
  const loadVersion = useSnapshotsStore((s) => s.loadVersion);
  const version = useSnapshotsStore((s) => s.version);
  useEffect(() => {
    void openSnapshots(id);
  }, [id, openSnapshots]);
  // The version it runs changes as it wakes, hibernates or goes through Updating.
  const state = summary?.state;
  useEffect(() => {
    void loadVersion();
  }, [state, loadVersion]);

  const gone = summary === null;
  const foreign = summary?.worker ?? null;
  const panels = foreign ? PANELS.filter((p) => FOREIGN_PANELS.includes(p.id)) : PANELS;
  const shown = foreign && !FOREIGN_PANELS.includes(panel) ? "lifecycle" : panel;
  return (
    <section className="object-page" aria-label="Object" data-testid="object-page">
      <div className="object-head">
        <button type="button" className="link" onClick={() => openObject(null)}>
          ← Objects
        </button>
        <h2>
          <span className="muted">{summary?.className ?? "Object"} · </span>
          <span data-testid="object-title">{summary?.name ?? id.slice(0, 12)}</span>
        </h2>
        {summary ? <StateBadge state={summary.state} /> : null}
        <span className="grow" />
        {busy ? <span className="muted">{busy}</span> : null}
        {gone ? null : (
          <>
            <button
              type="button"
              disabled={busy !== null || summary.state === "Hibernating"}
              onClick={() => void hibernate()}
            >
              Hibernate now
            </button>
            <button
              type="button"
              className="danger"
              disabled={busy !== null}
              onClick={() => {
                if (window.confirm("Terminate this object? Its storage is deleted.")) void terminate();
              }}
            >
              Terminate
            </button>
          </>
        )}
      </div>
      {foreign ? (
        <p className="muted" data-testid="foreign-object">
          An object of the Worker <span className="mono">{foreign}</span> (-c), kept in its own folder (
          <span className="mono">workers/{foreign}/</span> in the data folder, with its snapshots). Its
          lifecycle is live, and hibernating, terminating, SQL writes, snapshots and requests run in that
          Worker; its sockets and Event Bus deliveries are the project Worker&apos;s, so they are not shown.
        </p>
      ) : null}
      <dl className="facts">
        <div>
          <dt>Id</dt>
          <dd className="mono" data-testid="object-id">
            {id}
          </dd>
        </div>
        <div>
          <dt>Requests</dt>
          <dd>{summary?.requests.toLocaleString() ?? "—"}</dd>
        </div>
        <div>
          <dt>In flight</dt>
          <dd>{summary?.inFlight ?? "—"}</dd>
        </div>
        <div>
          <dt>Storage</dt>
          <dd>{summary ? formatBytes(summary.storageBytes) : "—"}</dd>
        </div>
        <div>
          <dt>Code version</dt>
          <dd className="mono" data-testid="object-version" title={version ?? undefined}>
            {version ? version.slice(0, 8) : <span className="muted">none (not live)</span>}
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{summary ? new Date(summary.createdAt).toLocaleString() : "—"}</dd>
        </div>
        {summary?.lastError ? (
          <div>
            <dt>Last error</dt>
            <dd className="error">{summary.lastError}</dd>
          </div>
        ) : null}
      </dl>
      {error ? <p className="error">{error}</p> : null}
      {gone || foreign ? null : <WhyAwakeCard id={id} />}
      {gone && !error ? <p className="muted">This object is gone (terminated) or not loaded yet.</p> : null}
      <div className="subtabs" role="tablist" aria-label="Object panels">
        {panels.map((p) => (
          <button
            key={p.id}
            type="button"
            role="tab"
            aria-selected={shown === p.id}
            onClick={() => showPanel(p.id)}
          >
            {p.label}
          </button>
        ))}
      </div>
      <div className="panel" role="tabpanel">
        {shown === "lifecycle" ? <LifecyclePanel /> : null}
        {shown === "storage" ? <StoragePanel /> : null}
        {shown === "snapshots" ? <SnapshotsPanel /> : null}
        {shown === "sockets" ? <SocketsPanel /> : null}
        {shown === "events" ? <EventsPanel /> : null}
        {shown === "request" ? <RequestPanel /> : null}
        {shown === "alarms" ? <AlarmsPanel /> : null}
        {shown === "logs" ? <LogsPanel /> : null}
      </div>
    </section>
  );
}

function LifecyclePanel() {
  const transitions = useObjectDetailStore((s) => s.transitions);
  const state = useObjectDetailStore((s) => s.summary?.state ?? null);
  const newestFirst = useMemo(() => [...transitions].reverse(), [transitions]);
  return (
    <div className="lifecycle">
      <StateDiagram current={state} transitions={transitions} />
      <h3>
        Timeline{" "}
        <span className="muted" data-testid="transition-count">
          ({pluralize(transitions.length, "transition")})
        </span>
      </h3>
      <div className="table" role="table" aria-label="Transitions">
        <div className="timeline-grid table-head" role="row">
          <span role="columnheader">Time</span>
          <span role="columnheader">From</span>
          <span role="columnheader">To</span>
          <span role="columnheader">Cause</span>
        </div>
        <VirtualList
          items={newestFirst}
          rowHeight={30}
          rowKey={(t: TransitionRecord) => String(t.seq)}
          label="Transition rows"
          className="timeline-body"
          empty={<p className="muted">No transitions recorded.</p>}
          renderRow={(t) => (
            <div className="timeline-grid" data-testid="transition" data-to={t.to} data-seq={t.seq}>
              <span role="cell" className="mono">
                {formatTime(t.time)}
              </span>
              <span role="cell">
                {t.from ? <StateBadge state={t.from} /> : <span className="muted">—</span>}
              </span>
              <span role="cell">
                <StateBadge state={t.to} />
              </span>
              <span role="cell" className="cause" title={t.cause}>
                {t.cause}
              </span>
            </div>
          )}
        />
      </div>
    </div>
  );
}

function StoragePanel() {
  const { tables, kv, sql } = useObjectDetailStore(
    useShallow((s) => ({ tables: s.tables, kv: s.kv, sql: s.sql })),
  );
  const loadStorage = useObjectDetailStore((s) => s.loadStorage);
  const setSql = useObjectDetailStore((s) => s.setSql);
  const runSql = useObjectDetailStore((s) => s.runSql);
  const browse = useObjectDetailStore((s) => s.browse);
  const hibernateAndRun = useObjectDetailStore((s) => s.hibernateAndRun);

  useEffect(() => {
    void loadStorage();
  }, [loadStorage]);

  return (
    <div className="storage">
      <aside className="storage-side">
        <h3>Tables</h3>
        {tables.length === 0 ? <p className="muted">No tables.</p> : null}
        <ul className="plain">
          {tables.map((t) => (
            <li key={t.name}>
              <button
                type="button"
                className="link"
                data-testid="table-link"
                title={t.sql}
                onClick={() => void browse(t.name)}
              >
                {t.name}
              </button>
              {t.type === "view" ? <span className="muted"> (view)</span> : null}
            </li>
          ))}
        </ul>
        <details>
          <summary>Schema</summary>
          <pre className="schema">{tables.map((t) => `${t.sql};`).join("\n\n")}</pre>
        </details>
      </aside>
      <div className="storage-main">
        <SqlEditor
          label="SQL"
          value={sql.text}
          onChange={(text) => setSql({ text })}
          onRun={() => void runSql()}
          disabled={sql.running}
        >
          <label className={sql.allowWrites ? "warn" : ""}>
            <input
              type="checkbox"
              checked={sql.allowWrites}
              onChange={(e) => setSql({ allowWrites: e.target.checked })}
            />{" "}
            Unlock writes
          </label>
          <span className="muted">
            {sql.allowWrites
              ? "Statements may change this object's storage: in its worker between its events while it is live, on its file while it hibernates."
              : "Read-only: statements that write are refused."}
          </span>
        </SqlEditor>
        {sql.error ? (
          <p className="error" data-testid="sql-error">
            {sql.error}
            {sql.refusedLive ? (
              <>
                {" "}
                <button type="button" disabled={sql.running} onClick={() => void hibernateAndRun()}>
                  Hibernate now and run
                </button>
              </>
            ) : null}
          </p>
        ) : null}
        {sql.result ? (
          <div data-testid="sql-result">
            {sql.page ? (
              <ResultPager
                page={sql.page}
                rows={sql.result.rows.length}
                pageRows={PAGE_ROWS}
                running={sql.running}
                onBrowse={(table, offset) => void browse(table, offset)}
                testId="pager"
              />
            ) : null}
            <p className="muted">
              {sql.result.rows.length} row{sql.result.rows.length === 1 ? "" : "s"}
              {sql.result.truncated ? " (truncated)" : ""}
              {sql.result.rowsWritten ? `, ${sql.result.rowsWritten} written` : ""}
              {sql.durationMs !== null ? ` in ${sql.durationMs.toFixed(1)} ms` : ""}
            </p>
            <ResultTable result={sql.result} />
          </div>
        ) : null}
        <h3>
          Key-value entries <span className="muted">({kv.length})</span>
        </h3>
        {kv.length === 0 ? (
          <p className="muted">No entries in ctx.storage (get/put).</p>
        ) : (
          <table className="result" data-testid="kv-table">
            <thead>
              <tr>
                <th>Key</th>
                <th>Value</th>
                <th>Size</th>
              </tr>
            </thead>
            <tbody>
              {kv.map((e) => (
                <tr key={e.key}>
                  <td className="mono">{e.key}</td>
                  <td className="mono">{e.preview}</td>
                  <td className="num">{formatBytes(e.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

function AlarmsPanel() {
  const alarms = useObjectDetailStore((s) => s.alarms);
  const fireAlarm = useObjectDetailStore((s) => s.fireAlarm);
  if (alarms.length === 0)
    return <p className="muted">No alarm set. An object sets one with ctx.storage.setAlarm().</p>;
  return (
    <table className="result">
      <thead>
        <tr>
          <th>Scheduled for</th>
          <th>Retry</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {alarms.map((a) => (
          <tr key={a.objectId}>
            <td>{new Date(a.time).toLocaleString()}</td>
            <td>{a.retryCount}</td>
            <td>
              <button type="button" onClick={() => void fireAlarm()}>
                Run now
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LogsPanel() {
  const logs = useObjectDetailStore((s) => s.logs);
  const newestFirst = useMemo(() => [...logs].reverse(), [logs]);
  return (
    <div className="table" role="table" aria-label="Logs">
      <div className="logs-grid table-head" role="row">
        <span role="columnheader">Time</span>
        <span role="columnheader">Level</span>
        <span role="columnheader">Message</span>
      </div>
      <VirtualList
        items={newestFirst}
        rowHeight={26}
        rowKey={(l: LogEntry, i) => `${l.time}-${i}`}
        label="Log rows"
        className="logs-body"
        empty={<p className="muted">No logs. What the object writes with console.log appears here.</p>}
        renderRow={(l) => (
          <div className={`logs-grid log-${l.level}`} data-testid="log-line">
            <span role="cell" className="mono">
              {formatTime(l.time)}
            </span>
            <span role="cell" className="level">
              {l.level}
            </span>
            <span role="cell" className="mono message" title={l.message}>
              {l.message}
            </span>
          </div>
        )}
      />
    </div>
  );
}
