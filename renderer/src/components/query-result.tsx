import type { KeyboardEvent, ReactNode } from "react";
import type { QueryResult } from "../../../runtime/api/contract.ts";
import { cellText } from "./format.ts";

/** The Inspector's SQL box: the statement, Run (or Ctrl+Enter), and what goes beside the button. */
export function SqlEditor(props: {
  readonly label: string;
  readonly value: string;
  readonly onChange: (text: string) => void;
  readonly onRun: () => void;
  /** Run is disabled (a statement is running, or there is nothing to run it on). */
  readonly disabled: boolean;
  readonly children?: ReactNode;
}) {
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      props.onRun();
    }
  };
  return (
    <div className="sql-box">
      <textarea
        aria-label={props.label}
        className="mono"
        rows={4}
        spellCheck={false}
        placeholder="SELECT * FROM sqlite_master"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        onKeyDown={onKey}
      />
      <div className="toolbar">
        <button type="button" className="primary" disabled={props.disabled} onClick={props.onRun}>
          Run <span className="muted">Ctrl+Enter</span>
        </button>
        {props.children}
      </div>
    </div>
  );
}

/** Previous / Next over a table's rows, `pageRows` at a time (the Inspector's SQL boxes). */
export function ResultPager(props: {
  readonly page: { readonly table: string; readonly offset: number };
  readonly rows: number;
  readonly pageRows: number;
  readonly running: boolean;
  readonly onBrowse: (table: string, offset: number) => void;
  readonly testId?: string;
}) {
  const { page, rows, pageRows, running, onBrowse } = props;
  return (
    <div className="toolbar pager" data-testid={props.testId}>
      <strong className="mono">{page.table}</strong>
      <span className="muted">
        rows {rows ? page.offset + 1 : 0}–{page.offset + rows}
      </span>
      <button
        type="button"
        disabled={running || page.offset === 0}
        onClick={() => onBrowse(page.table, Math.max(0, page.offset - pageRows))}
      >
        ‹ Previous
      </button>
      <button
        type="button"
        disabled={running || rows < pageRows}
        onClick={() => onBrowse(page.table, page.offset + pageRows)}
      >
        Next ›
      </button>
    </div>
  );
}

/** A query's rows as a table; values as text, never as HTML. */
export function ResultTable(props: { readonly result: QueryResult; readonly clipCells?: boolean }) {
  const { result, clipCells = false } = props;
  return (
    <div className="result-scroll">
      <table className="result">
        <thead>
          <tr>
            {result.columns.map((c, i) => (
              <th key={i}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {result.rows.map((row, i) => (
            <tr key={i}>
              {row.map((v, j) => (
                <td key={j} className={[clipCells ? "clip" : "", v === null ? "muted" : ""].join(" ").trim()}>
                  {cellText(v)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
