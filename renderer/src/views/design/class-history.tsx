import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";
import type { ClassVersion } from "../../../../runtime/api/contract.ts";
import { formatBytes } from "../../components/format.ts";
import { useClassVersionsStore } from "../../stores/class-versions.ts";
import { useDesignStore } from "../../stores/design.ts";
import "../time-travel.css";

/** Today's versions by time of day, older ones with their date. */
function when(t: number): string {
  const d = new Date(t);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}

const CAUSES: Record<ClassVersion["cause"], string> = {
  start: "running at start",
  update: "saved change",
  rollback: "rollback",
};

/**
 * A class's code history in the Design view: every version the engine ran
 * (newest first), how many live objects run each, its source, and a
 * rollback to any earlier one.
 */
export function ClassHistory({ className }: { readonly className: string }) {
  const s = useClassVersionsStore(
    useShallow((x) => ({
      info: x.info,
      shown: x.shown,
      busy: x.busy,
      error: x.error,
      notice: x.notice,
      shownRow: x.shownRow,
    })),
  );
  const { open, show, rollback } = useClassVersionsStore(
    useShallow((x) => ({ open: x.open, show: x.show, rollback: x.rollback })),
  );
  // Reloaded on every code update too (a save here, an edit elsewhere, a rollback).
  const update = useDesignStore((x) => x.update);
  useEffect(() => {
    void open(className);
  }, [className, open, update]);

  const versions = [...(s.info?.versions ?? [])].reverse();
  return (
    <section className="versions" aria-label={`History of ${className}`} data-testid="class-history">
      <h5>History of {className}</h5>
      {s.busy ? <p className="muted small">{s.busy}</p> : null}
      {s.error ? (
        <p className="error" data-testid="history-error">
          {s.error}
        </p>
      ) : null}
      {s.notice ? (
        <p className="notice" data-testid="history-notice">
          {s.notice}
        </p>
      ) : null}
      {versions.length === 0 ? (
        <p className="muted small">No versions recorded yet.</p>
      ) : (
        <ol className="plain version-list">
          {versions.map((v, i) => {
            const current = v.hash === s.info?.current && i === 0;
            const live = current ? (s.info?.live[v.hash] ?? 0) : 0;
            return (
              <li
                key={`${v.hash}-${v.savedAt}`}
                className={current ? "current" : ""}
                data-testid="version-row"
                data-hash={v.hash}
                data-cause={v.cause}
              >
                <span className="mono" title={`${v.hash}\n${v.file}, ${formatBytes(v.bytes)}`}>
                  {v.hash.slice(0, 8)}
                </span>
                <span className="small">
                  {when(v.savedAt)} · {CAUSES[v.cause]}
                  {current ? (
                    <span className="notice">
                      {" "}
                      · current, {live} live object{live === 1 ? "" : "s"}
                    </span>
                  ) : null}
                </span>
                <span className="actions">
                  <button
                    type="button"
                    className="link"
                    onClick={() => void show(s.shown?.hash === v.hash && s.shownRow === i ? null : v.hash, i)}
                  >
                    {s.shown?.hash === v.hash && s.shownRow === i ? "Hide" : "Source"}
                  </button>
                  {current ? null : (
                    <button
                      type="button"
                      disabled={s.busy !== null || v.hash === s.info?.current}
                      title={v.hash === s.info?.current ? "The class runs this code now" : undefined}
                      onClick={() => {
                        if (
                          window.confirm(
                            `Roll ${className} back to ${v.hash.slice(0, 8)}?\n\n` +
                              `${v.file} gets that version's text and every live object of the class moves to it ` +
                              "(Updating). It is refused, and the file left as it is, if that version does not build " +
                              "or its constructor throws on the current storage.",
                          )
                        )
                          void rollback(v.hash);
                      }}
                    >
                      Roll back
                    </button>
                  )}
                </span>
              </li>
            );
          })}
        </ol>
      )}
      {s.shown ? (
        <pre className="version-source mono" data-testid="version-source">
          {s.shown.text}
        </pre>
      ) : null}
    </section>
  );
}
