import type { QueryResult } from "../../../runtime/api/contract.ts";
import { cellText } from "./format.ts";

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
