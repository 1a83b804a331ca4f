import { useEffect, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { WakeReport } from "../../../../runtime/api/contract.ts";
import { formatBytes, pluralize } from "../../components/format.ts";
import { useWhyAwakeStore } from "../../stores/why-awake.ts";
import "./why-awake.css";

/** How often the card asks again while it shows (a cheap read plus a bounded probe of the worker). */
const POLL_MS = 2_000;

function seconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/**
 * "Why is it awake?" on an object's page: what keeps it from hibernating,
 * when it hibernates next, its in-memory fields, and the "hibernate now,
 * then wake" action with what that lost.
 */
export function WhyAwakeCard({ id }: { readonly id: string }) {
  const { why, receivedAt, error, waking, report, wakeError } = useWhyAwakeStore(
    useShallow((s) => ({
      why: s.why,
      receivedAt: s.receivedAt,
      error: s.error,
      waking: s.waking,
      report: s.report,
      wakeError: s.wakeError,
    })),
  );
  const load = useWhyAwakeStore((s) => s.load);
  const hibernateAndWake = useWhyAwakeStore((s) => s.hibernateAndWake);
  const now = useNow(500);

  useEffect(() => {
    void load(id);
    const t = setInterval(() => void load(id), POLL_MS);
    return () => clearInterval(t);
  }, [id, load]);

  if (!why) return error ? <p className="error">{error}</p> : null;
  // Times are on the engine's clock: count down from when the answer came.
  const left = (t: number): number => t - why.at - Math.max(0, now - receivedAt);
  const held = why.reasons.filter((r) => r.blocks);
  const fields = Object.entries(why.fields ?? {});

  return (
    <section className="why-awake" aria-label="Why is it awake" data-testid="why-awake">
      <div className="why-head">
        <h3>{why.awake ? "Why is it awake?" : "Hibernating"}</h3>
        <span className="muted" data-testid="why-next">
          {!why.awake
            ? "not in memory: the next request, alarm, event or socket message wakes it"
            : why.hibernatesAt !== null
              ? `hibernates in ${seconds(left(why.hibernatesAt))} if nothing arrives`
              : `does not hibernate while ${held.length === 1 ? "this holds" : "these hold"}; then after ${seconds(why.quietMs)} quiet`}
        </span>
        <span className="grow" />
        <button
          type="button"
          disabled={waking}
          onClick={() => void hibernateAndWake()}
          title="Hibernate the object and wake it at once: its constructor runs again, and what it kept only in memory is lost"
        >
          {waking ? "Hibernating and waking…" : why.awake ? "Hibernate now, then wake" : "Wake"}
        </button>
      </div>
      {why.reasons.length > 0 ? (
        <ul className="why-reasons" data-testid="why-reasons">
          {why.reasons.map((r) => (
            <li key={r.kind} data-kind={r.kind} className={r.blocks ? "holds" : "timer"}>
              <span className="why-tag">
                {r.blocks ? "holds it awake" : r.kind === "alarm" ? "alarm" : "timeout"}
              </span>
              {r.detail}
            </li>
          ))}
        </ul>
      ) : null}
      {wakeError ? (
        <p className="error" data-testid="wake-error">
          {wakeError}
        </p>
      ) : null}
      {report ? <WakeResult report={report} /> : null}
      {fields.length > 0 && !report ? (
        <details className="why-fields">
          <summary>
            In memory: {pluralize(fields.length, "field")} (lost when it hibernates unless the constructor
            rebuilds them)
          </summary>
          <table className="result">
            <tbody>
              {fields.map(([k, v]) => (
                <tr key={k}>
                  <td className="mono">{k}</td>
                  <td className="mono">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </section>
  );
}

function WakeResult({ report }: { readonly report: WakeReport }) {
  return (
    <div className="wake-result" data-testid="wake-result">
      <p>
        {report.wasAwake ? "Hibernated and woke" : "Woke"} in {report.durationMs} ms: the constructor ran
        again on its storage.{" "}
        {report.lost.length === 0
          ? report.wasAwake
            ? "No field lost its value."
            : ""
          : `${pluralize(report.lost.length, "field")} lost ${report.lost.length === 1 ? "its value" : "their values"}.`}
      </p>
      {report.lost.length > 0 || report.kept.length > 0 ? (
        <table className="result" data-testid="wake-fields">
          <thead>
            <tr>
              <th>Field</th>
              <th>Before</th>
              <th>After waking</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {report.lost.map((f) => (
              <tr key={f.field} className="lost">
                <td className="mono">{f.field}</td>
                <td className="mono">{f.before}</td>
                <td className="mono">{f.after ?? "(gone)"}</td>
                <td className="lost-tag">lost</td>
              </tr>
            ))}
            {report.kept.map((f) => (
              <tr key={f}>
                <td className="mono">{f}</td>
                <td className="mono">{report.before?.[f]}</td>
                <td className="mono">{report.after[f]}</td>
                <td className="muted">same</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {report.sockets.length > 0 ? (
        <p className="muted">
          {pluralize(report.sockets.length, "hibernatable WebSocket")} stayed connected, attachments restored
          ({report.sockets.map((s) => formatBytes(s.attachmentBytes)).join(", ")}).
        </p>
      ) : null}
    </div>
  );
}
