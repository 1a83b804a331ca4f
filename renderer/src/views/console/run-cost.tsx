import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";
import type { CostInfo } from "../../../../runtime/api/contract.ts";
import { formatBytes, formatDuration } from "../../components/format.ts";
import { useCostStore } from "../../stores/cost.ts";

const LABELS: Record<CostInfo["lines"][number]["metric"], string> = {
  requests: "Requests",
  duration: "Duration",
  rowsRead: "Rows read",
  rowsWritten: "Rows written",
  storage: "Storage",
};

const n0 = (v: number): string => Math.round(v).toLocaleString("en-US");
function usd(v: number): string {
  if (v === 0) return "$0";
  if (v < 0.01) return "<$0.01";
  return `$${v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** What a saved run (or all traffic since the project started) would cost on Cloudflare each month. */
export function RunCost({ runId }: { readonly runId: string }) {
  const { scope, estimate, error } = useCostStore(
    useShallow((s) => ({ scope: s.scope, estimate: s.estimate, error: s.error })),
  );
  const load = useCostStore((s) => s.load);
  useEffect(() => {
    void load(runId);
  }, [runId, load]);

  return (
    <section aria-label="Cost on Cloudflare" className="run-cost" data-testid="run-cost">
      <div className="run-cost-head">
        <h3>Cost on Cloudflare</h3>
        <div className="subtabs" role="group" aria-label="Cost of">
          <button type="button" aria-pressed={scope === "run"} onClick={() => void load(runId, "run")}>
            This run
          </button>
          <button
            type="button"
            aria-pressed={scope === "project"}
            onClick={() => void load(runId, "project")}
          >
            Since the project started
          </button>
        </div>
      </div>
      {error ? <p className="error">{error}</p> : null}
      {estimate ? <Estimate e={estimate} /> : error ? null : <p className="muted">Loading…</p>}
    </section>
  );
}

function Estimate({ e }: { readonly e: CostInfo }) {
  return (
    <>
      <p className="run-cost-total">
        <strong data-testid="cost-total">{usd(e.totalUsd)}</strong> a month at this rate, plus the{" "}
        {usd(e.prices.baseMonthlyUsd)} {e.prices.plan} plan{" "}
        <span className="muted">
          ({e.scope === "run" ? "the run's" : "since " + new Date(e.since).toLocaleString() + ":"}{" "}
          {formatDuration(e.windowMs)} scaled to 30 days; prices of {e.prices.asOf}, {e.prices.source})
        </span>
      </p>
      <table className="result compact" data-testid="cost-lines">
        <thead>
          <tr>
            <th>Line</th>
            <th className="num">Measured</th>
            <th className="num">A month at this rate</th>
            <th className="num">Included</th>
            <th className="num">Cost a month</th>
          </tr>
        </thead>
        <tbody>
          {e.lines.map((l) => (
            <tr key={l.metric} data-metric={l.metric}>
              <th scope="row">{LABELS[l.metric]}</th>
              <td className="num">
                {l.metric === "storage"
                  ? formatBytes(Math.round(l.measured * 1e9))
                  : l.metric === "duration"
                    ? l.measured.toFixed(2)
                    : n0(l.measured)}
              </td>
              <td className="num">
                {l.metric === "storage" ? l.monthly.toFixed(3) : n0(l.monthly)} {l.unit}
              </td>
              <td className="num">{n0(l.included)}</td>
              <td className="num">{usd(l.usd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="result compact" data-testid="cost-classes">
        <thead>
          <tr>
            <th>Class</th>
            <th className="num">Requests (billed)</th>
            <th className="num">WebSocket msgs</th>
            <th className="num">GB-s</th>
            <th className="num">Rows read</th>
            <th className="num">Rows written</th>
            <th className="num">Storage</th>
            <th className="num">Share a month</th>
          </tr>
        </thead>
        <tbody>
          {e.byClass.map((c) => (
            <tr key={c.className} data-class={c.className}>
              <th scope="row">{c.className}</th>
              <td className="num">{n0(c.billedRequests)}</td>
              <td className="num">{n0(c.usage.wsMessages)}</td>
              <td className="num">{c.gbSeconds.toFixed(2)}</td>
              <td className="num">{n0(c.usage.rowsRead)}</td>
              <td className="num">{n0(c.usage.rowsWritten)}</td>
              <td className="num">{formatBytes(c.storageBytes)}</td>
              <td className="num">{usd(c.totalUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {e.notes.length > 0 ? (
        <>
          <h4>What would change it</h4>
          <ul className="cost-notes" data-testid="cost-notes">
            {e.notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}
