import { useShallow } from "zustand/react/shallow";
import type { DataPoint, RateLimiterInfo } from "../../../../runtime/api/contract.ts";
import { formatTime, pluralize } from "../../components/format.ts";
import { usePoll } from "../../components/use-poll.ts";
import { useLimitsStore } from "../../stores/limits.ts";

function Limiter({ r }: { r: RateLimiterInfo }) {
  return (
    <div className="limiter" data-testid="limiter" data-binding={r.binding}>
      <h3>
        <span className="mono">env.{r.binding}</span>{" "}
        <span className="muted keep-case">
          {r.limit} per {r.period} s · namespace {r.namespaceId || "—"} · Worker {r.worker}
        </span>
      </h3>
      <p className="muted" data-testid="limiter-totals">
        {pluralize(r.allowed, "call")} allowed, {r.limited} limited since Terrarium started
        {r.windowStart !== null && r.windowEnd !== null
          ? ` · current window ${formatTime(r.windowStart)}–${formatTime(r.windowEnd)}`
          : " · no call in the current window"}
      </p>
      <div className="limiter-grid">
        <table className="result" aria-label={`${r.binding} counters`}>
          <thead>
            <tr>
              <th>Key</th>
              <th className="num">This window</th>
              <th className="num">Left</th>
            </tr>
          </thead>
          <tbody>
            {r.counts.map((c) => (
              <tr key={c.key} data-testid="limiter-count">
                <td className="mono clip">
                  {c.key === "" ? <span className="muted">(empty key)</span> : c.key}
                </td>
                <td className="num">{c.count}</td>
                <td className="num">{Math.max(0, r.limit - c.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table className="result" aria-label={`${r.binding} recent calls`}>
          <thead>
            <tr>
              <th>Time</th>
              <th>Key</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {r.recent.slice(0, 50).map((c, i) => (
              <tr key={`${c.time}-${i}`} data-testid="limiter-call">
                <td className="mono">{formatTime(c.time)}</td>
                <td className="mono clip">{c.key}</td>
                <td className={c.allowed ? "" : "error"}>{c.allowed ? "allowed" : "limited"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** The rate limiters (`ratelimits`): configuration, this window's counts per key, the latest limit() calls. */
export function RateLimitsPage() {
  const { limiters, error } = useLimitsStore(useShallow((s) => ({ limiters: s.limiters, error: s.error })));
  const load = useLimitsStore((s) => s.loadLimiters);
  usePoll(load, 1_000);
  return (
    <section className="limits-page" aria-label="Rate limits" data-testid="rate-limits">
      {error ? <p className="error">{error}</p> : null}
      {limiters.length === 0 ? (
        <p className="muted">
          No rate limiters. Declare one under <code>ratelimits</code> in the wrangler config; the code calls{" "}
          <code>env.LIMITER.limit({"{ key }"})</code>.
        </p>
      ) : (
        <>
          <p className="muted">
            Counted in fixed windows in Terrarium's memory, as wrangler dev does; the counts start over when
            Terrarium restarts. On Cloudflare they are per location.
          </p>
          {limiters.map((r) => (
            <Limiter key={`${r.worker}/${r.binding}`} r={r} />
          ))}
        </>
      )}
    </section>
  );
}

const cells = (xs: readonly (string | number | null)[]) =>
  xs.length === 0 ? (
    <span className="muted">—</span>
  ) : (
    xs.map((x) => (x === null ? "null" : String(x))).join(", ")
  );

/** Analytics Engine datasets and the data points the code wrote (captured, never sent). */
export function AnalyticsPage() {
  const { datasets, dataset, points, error } = useLimitsStore(
    useShallow((s) => ({ datasets: s.datasets, dataset: s.dataset, points: s.points, error: s.error })),
  );
  const load = useLimitsStore((s) => s.loadAnalytics);
  const choose = useLimitsStore((s) => s.chooseDataset);
  usePoll(load, 1_000);
  const row = (p: DataPoint, i: number) => (
    <tr key={`${p.time}-${i}`} data-testid="data-point">
      <td className="mono">{formatTime(p.time)}</td>
      <td className="mono">{p.dataset}</td>
      <td className="mono clip">{cells(p.indexes)}</td>
      <td className="mono clip">{cells(p.blobs)}</td>
      <td className="mono clip">{cells(p.doubles)}</td>
    </tr>
  );
  return (
    <section className="limits-page" aria-label="Analytics Engine" data-testid="analytics">
      {error ? <p className="error">{error}</p> : null}
      {datasets.length === 0 ? (
        <p className="muted">
          No Analytics Engine datasets. Declare one under <code>analytics_engine_datasets</code>; the code
          calls <code>env.DATASET.writeDataPoint(...)</code>.
        </p>
      ) : (
        <>
          <div className="toolbar">
            <select
              aria-label="Dataset"
              value={dataset ?? ""}
              onChange={(e) => choose(e.target.value === "" ? null : e.target.value)}
            >
              <option value="">Every dataset</option>
              {datasets.map((d) => (
                <option key={`${d.worker}/${d.binding}`} value={d.binding}>
                  env.{d.binding} ({d.dataset}, {d.worker})
                </option>
              ))}
            </select>
            <span className="muted" data-testid="dataset-counts">
              {datasets.map((d) => `${d.dataset}: ${pluralize(d.points, "point")}`).join(" · ")}
            </span>
          </div>
          <p className="muted">
            Data points are captured here, never sent (the last 2,000 are kept in memory); on Cloudflare you
            query them with the SQL API.
          </p>
          <div className="result-scroll">
            <table className="result" aria-label="Data points">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Dataset</th>
                  <th>Indexes</th>
                  <th>Blobs</th>
                  <th>Doubles</th>
                </tr>
              </thead>
              <tbody>{points.map(row)}</tbody>
            </table>
            {points.length === 0 ? <p className="muted">No data points written yet.</p> : null}
          </div>
        </>
      )}
    </section>
  );
}
