import { useEffect, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { SnapshotInfo, StorageDiff } from "../../../../runtime/api/contract.ts";
import { cellText, formatBytes } from "../../components/format.ts";
import { useObjectDetailStore } from "../../stores/object-detail.ts";
import "../time-travel.css";
import { useSnapshotsStore } from "../../stores/snapshots.ts";

const REASONS: Record<SnapshotInfo["reason"], string> = {
  manual: "by hand",
  update: "before a code update",
  load: "load run",
  reset: "before a reset",
  restore: "before a restore",
};

function row(r: Record<string, unknown>): string {
  return Object.entries(r)
    .map(([k, v]) => `${k}: ${cellText(v)}`)
    .join(", ");
}

/** An object's snapshots: take one, compare two (or one with now), restore one, reset the object. */
export function SnapshotsPanel() {
  const s = useSnapshotsStore(
    useShallow((x) => ({
      list: x.list,
      picked: x.picked,
      diff: x.diff,
      busy: x.busy,
      error: x.error,
      notice: x.notice,
    })),
  );
  const { load, take, pick, showDiff, restore, remove, reset } = useSnapshotsStore(
    useShallow((x) => ({
      load: x.load,
      take: x.take,
      pick: x.pick,
      showDiff: x.showDiff,
      restore: x.restore,
      remove: x.remove,
      reset: x.reset,
    })),
  );
  const refresh = useObjectDetailStore((x) => x.refresh);
  const [label, setLabel] = useState("");

  useEffect(() => {
    void load();
  }, [load]);

  const [a, b] = s.picked;
  const byTime = (id: string | undefined): SnapshotInfo | undefined => s.list.find((x) => x.id === id);
  // Compare older -> newer, whichever was ticked first.
  const ordered = [byTime(a), byTime(b)]
    .filter((x): x is SnapshotInfo => x !== undefined)
    .sort((x, y) => x.time - y.time);

  return (
    <div className="snapshots" data-testid="snapshots-panel">
      <form
        className="snapshot-take"
        onSubmit={(e) => {
          e.preventDefault();
          void take(label).then(() => setLabel(""));
        }}
      >
        <input
          aria-label="Snapshot label"
          placeholder="Label (optional)"
          value={label}
          maxLength={200}
          onChange={(e) => setLabel(e.target.value)}
        />
        <button type="submit" disabled={s.busy !== null}>
          Take snapshot
        </button>
        <button
          type="button"
          disabled={ordered.length !== 2 || s.busy !== null}
          onClick={() => void showDiff(ordered[0]!.id, ordered[1]!.id)}
        >
          Compare ticked
        </button>
        <span className="grow" />
        <button
          type="button"
          className="danger"
          disabled={s.busy !== null}
          onClick={() => {
            if (
              window.confirm(
                "Reset this object? Its storage and alarm are deleted (a snapshot of them is kept first).",
              )
            )
              void reset().then(async (ok) => {
                if (ok) await refresh();
              });
          }}
        >
          Reset storage…
        </button>
      </form>
      {s.busy ? <p className="muted">{s.busy}</p> : null}
      {s.error ? (
        <p className="error" data-testid="snapshot-error">
          {s.error}
        </p>
      ) : null}
      {s.notice ? (
        <p className="notice" data-testid="snapshot-notice">
          {s.notice}
        </p>
      ) : null}
      {s.list.length === 0 ? (
        <p className="muted">
          No snapshots yet. Terrarium takes one before every live code update, every 10 s of a load run for
          the busiest objects, and before a restore or reset; take one by hand here.
        </p>
      ) : (
        <table className="result" data-testid="snapshot-table">
          <thead>
            <tr>
              <th aria-label="Compare" />
              <th>Taken</th>
              <th>Why</th>
              <th>Label</th>
              <th>Size</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {s.list.map((x) => (
              <tr key={x.id} data-testid="snapshot-row" data-snapshot={x.id} data-reason={x.reason}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Tick ${x.id} to compare`}
                    checked={s.picked.includes(x.id)}
                    onChange={(e) => pick(x.id, e.target.checked)}
                  />
                </td>
                <td className="mono" title={x.id}>
                  {new Date(x.time).toLocaleString()}
                </td>
                <td>{REASONS[x.reason]}</td>
                <td>{x.label ?? <span className="muted">—</span>}</td>
                <td className="num">{formatBytes(x.bytes)}</td>
                <td className="actions">
                  <button type="button" disabled={s.busy !== null} onClick={() => void showDiff(x.id, null)}>
                    Diff with now
                  </button>
                  <button
                    type="button"
                    disabled={s.busy !== null}
                    onClick={() => {
                      if (
                        window.confirm(
                          "Restore this snapshot? The object stops, its storage is replaced, and it wakes on the restored storage. What it holds now is kept as a snapshot.",
                        )
                      )
                        void restore(x.id).then(async (ok) => {
                          if (ok) await refresh();
                        });
                    }}
                  >
                    Restore
                  </button>
                  <button
                    type="button"
                    className="link"
                    disabled={s.busy !== null}
                    onClick={() => void remove(x.id)}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {s.diff ? (
        <DiffView
          diff={s.diff.diff}
          from={byTime(s.diff.from)}
          to={s.diff.to ? byTime(s.diff.to) : undefined}
        />
      ) : null}
    </div>
  );
}

function DiffView(props: {
  readonly diff: StorageDiff;
  readonly from: SnapshotInfo | undefined;
  readonly to: SnapshotInfo | undefined;
}) {
  const { diff } = props;
  const when = (x: SnapshotInfo | undefined, fallback: string): string =>
    x ? `${x.label ?? REASONS[x.reason]} (${new Date(x.time).toLocaleTimeString()})` : fallback;
  const changedTables = diff.tables.filter(
    (t) => t.status !== "both" || t.schemaChanged || t.counts.added + t.counts.changed + t.counts.removed > 0,
  );
  const k = diff.kv.counts;
  return (
    <section className="snapshot-diff" data-testid="snapshot-diff" aria-label="Diff">
      <h3>
        Diff <span className="muted">{when(props.from, "?")}</span> →{" "}
        <span className="muted">{when(props.to, "now")}</span>
      </h3>
      {diff.same ? <p data-testid="diff-same">No differences.</p> : null}
      {changedTables.map((t) => (
        <div key={t.table} className="diff-table" data-testid="diff-table" data-table={t.table}>
          <h4>
            Table <span className="mono">{t.table}</span>
            {t.status !== "both" ? <span className="muted"> (table {t.status})</span> : null}
            {t.schemaChanged ? <span className="warn"> (columns changed)</span> : null}{" "}
            <span className="diff-counts" data-testid="diff-counts">
              <span className="diff-add">+{t.counts.added}</span>{" "}
              <span className="diff-change">~{t.counts.changed}</span>{" "}
              <span className="diff-remove">−{t.counts.removed}</span>
            </span>{" "}
            <span className="muted">
              ({t.counts.before} → {t.counts.after} rows, matched on {t.key.join(", ") || "all columns"})
            </span>
          </h4>
          <ul className="plain diff-rows">
            {t.added.map((r, i) => (
              <li key={`a${i}`} className="diff-add mono">
                + {row(r)}
              </li>
            ))}
            {t.changed.map((r, i) => (
              <li key={`c${i}`} className="diff-change mono">
                ~ {row(r.before)} → {row(r.after)}
              </li>
            ))}
            {t.removed.map((r, i) => (
              <li key={`r${i}`} className="diff-remove mono">
                − {row(r)}
              </li>
            ))}
          </ul>
        </div>
      ))}
      {k.added + k.changed + k.removed > 0 ? (
        <div className="diff-table" data-testid="diff-kv">
          <h4>
            Key-value entries{" "}
            <span className="diff-counts">
              <span className="diff-add">+{k.added}</span> <span className="diff-change">~{k.changed}</span>{" "}
              <span className="diff-remove">−{k.removed}</span>
            </span>{" "}
            <span className="muted">
              ({k.before} → {k.after} keys)
            </span>
          </h4>
          <ul className="plain diff-rows">
            {diff.kv.added.map((e) => (
              <li key={`a${e.key}`} className="diff-add mono">
                + {e.key} = {e.value}
              </li>
            ))}
            {diff.kv.changed.map((e) => (
              <li key={`c${e.key}`} className="diff-change mono">
                ~ {e.key}: {e.before} → {e.after}
              </li>
            ))}
            {diff.kv.removed.map((e) => (
              <li key={`r${e.key}`} className="diff-remove mono">
                − {e.key} = {e.value}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
