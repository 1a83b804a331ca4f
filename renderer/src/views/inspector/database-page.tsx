import { useShallow } from "zustand/react/shallow";
import { formatBytes, formatDuration } from "../../components/format.ts";
import { ResultPager, ResultTable, SqlEditor } from "../../components/query-result.tsx";
import { DB_PAGE_ROWS, useDatabaseStore } from "../../stores/database.ts";
import { usePoll } from "../../components/use-poll.ts";

/** A D1 database as the Inspector shows it: its tables and schema, paged rows, a read-only SQL box. */
export function DatabasePage() {
  const s = useDatabaseStore(
    useShallow((st) => ({
      databases: st.databases,
      binding: st.binding,
      sql: st.sql,
      page: st.page,
      running: st.running,
      result: st.result,
      durationMs: st.durationMs,
      error: st.error,
    })),
  );
  const { load, choose, setSql, run, browse } = useDatabaseStore(
    useShallow((st) => ({
      load: st.load,
      choose: st.choose,
      setSql: st.setSql,
      run: st.run,
      browse: st.browse,
    })),
  );

  usePoll(load, 3_000);

  const db = s.databases.find((d) => d.binding === s.binding) ?? null;
  if (s.databases.length === 0) {
    return (
      <section className="database-page" aria-label="Database" data-testid="database-page">
        <p className="muted">
          No D1 databases. Bind one in wrangler.jsonc (<code>d1_databases</code>); Terrarium keeps it in a
          SQLite file in the data folder.
        </p>
      </section>
    );
  }

  return (
    <section className="database-page" aria-label="Database" data-testid="database-page">
      <div className="toolbar">
        {s.databases.length > 1 ? (
          <select aria-label="Database" value={s.binding ?? ""} onChange={(e) => choose(e.target.value)}>
            {s.databases.map((d) => (
              <option key={d.binding} value={d.binding}>
                {d.binding} ({d.name})
              </option>
            ))}
          </select>
        ) : null}
        {db ? (
          <h2>
            <span className="muted">D1 · </span>
            <span className="mono">env.{db.binding}</span> <span className="muted">{db.name}</span>
          </h2>
        ) : null}
        <span className="grow" />
        {db ? (
          <span className="muted" data-testid="database-size">
            {db.exists
              ? `${db.tables.length} table${db.tables.length === 1 ? "" : "s"}, ${formatBytes(db.bytes)}`
              : "not used yet"}
          </span>
        ) : null}
      </div>
      <div className="storage">
        <aside className="storage-side">
          <h3>Tables</h3>
          {db && db.tables.length === 0 ? (
            <p className="muted">{db.exists ? "No tables." : "Nothing has used this database yet."}</p>
          ) : null}
          <ul className="plain">
            {db?.tables.map((t) => (
              <li key={t.name} data-testid="database-table" data-table={t.name}>
                <button type="button" className="link" title={t.sql} onClick={() => void browse(t.name)}>
                  {t.name}
                </button>{" "}
                <span className="muted">{t.rows === null ? "(view)" : t.rows.toLocaleString()}</span>
              </li>
            ))}
          </ul>
          {db && db.tables.length > 0 ? (
            <details>
              <summary>Schema</summary>
              <pre className="schema">{db.tables.map((t) => `${t.sql};`).join("\n\n")}</pre>
            </details>
          ) : null}
        </aside>
        <div className="storage-main">
          <SqlEditor
            label="Database SQL"
            value={s.sql}
            onChange={setSql}
            onRun={() => void run()}
            disabled={s.running || !db?.exists}
          >
            <span className="muted">Read-only: statements that write are refused.</span>
          </SqlEditor>
          {s.error ? (
            <p className="error" data-testid="database-error">
              {s.error}
            </p>
          ) : null}
          {s.result ? (
            <div data-testid="database-result">
              {s.page ? (
                <ResultPager
                  page={s.page}
                  rows={s.result.rows.length}
                  pageRows={DB_PAGE_ROWS}
                  running={s.running}
                  onBrowse={(table, offset) => void browse(table, offset)}
                />
              ) : null}
              <p className="muted">
                {s.result.rows.length} row{s.result.rows.length === 1 ? "" : "s"}
                {s.result.truncated ? " (truncated)" : ""}
                {s.durationMs !== null ? ` in ${formatDuration(s.durationMs)}` : ""}
              </p>
              <ResultTable result={s.result} clipCells />
            </div>
          ) : null}
        </div>
      </div>
    </section>
  );
}
