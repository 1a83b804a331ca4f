import { useEffect, useMemo } from "react";
import { RunCost } from "./run-cost.tsx";
import { useShallow } from "zustand/react/shallow";
import type { LifecycleState, RunInfo, RunRecord } from "../../../../runtime/api/contract.ts";
import { LIFECYCLE_STATES } from "../../api/lifecycle.ts";
import { formatDuration, formatTime, pluralize, shortId, stateClass } from "../../components/format.ts";
import { useLoadStore } from "../../stores/load.ts";
import { useObjectsStore } from "../../stores/objects.ts";
import { useUiStore } from "../../stores/ui.ts";
import { LoadChart, type ChartLine, type ChartMark } from "./load-chart.tsx";
import {
  classRows,
  compareRuns,
  downsample,
  errorKinds,
  LIVE_STATES,
  liveFlags,
  liveHeld,
  overlay,
  runVerdict,
  PERCENTILES,
  runCharts,
  scalingMarks,
  stageBands,
  type Columns,
  type LevelPoint,
  type LimitFlag,
  type RunSecond,
  type StageBand,
} from "./load-series.ts";
import "./load.css";

const POLL_MS = 1_000;
/** Points per chart line: a long run is merged down to this, uPlot draws it at 60 fps. */
const MAX_POINTS = 600;
/** The per-class table of a live run covers the last seconds, not the whole run. */
const LIVE_WINDOW_S = 5;
const HEAT_CELLS = 5_000;

const LINE = ["#4fb286", "#8b97a5", "#e9b949", "#5aa9e6", "#b48ef0", "#e5636f", "#4cc9d8", "#7fa39a"];
const ERROR_COLOR: Record<string, string> = {
  http_4xx: "#e9b949",
  http_5xx: "#e5636f",
  timeout: "#b48ef0",
  refused: "#f07480",
  reset: "#c98a5a",
  dropped: "#8b97a5",
  backlog: "#6c7ee1",
};

const stateColors = new Map<string, string>();
/** A state's colour from the stylesheet (the same as the Inspector's badges). */
function stateColor(state: string): string {
  let c = stateColors.get(state);
  if (c === undefined) {
    const probe = document.createElement("span");
    probe.className = stateClass(state);
    document.body.append(probe);
    c = getComputedStyle(probe).getPropertyValue("--state").trim() || "#8b97a5";
    probe.remove();
    stateColors.set(state, c);
  }
  return c;
}

const n0 = (v: number): string => Math.round(v).toLocaleString("en-US");
const n1 = (v: number): string => (Math.round(v * 10) / 10).toLocaleString("en-US");
const ms = (v: number): string => formatDuration(v);

export function LoadView() {
  useEffect(() => {
    const s = useLoadStore.getState();
    void s.loadProfiles();
    void s.loadRuns();
    void s.poll();
    if (!useObjectsStore.getState().loaded) void useObjectsStore.getState().load();
    const t = setInterval(() => void useLoadStore.getState().poll(), POLL_MS);
    return () => clearInterval(t);
  }, []);
  const { live, opened, compared, error } = useLoadStore(
    useShallow((s) => ({ live: s.live, opened: s.opened, compared: s.compared, error: s.error })),
  );
  return (
    <div className="load">
      <aside className="load-side">
        <ProfilePanel />
        <RunHistory />
      </aside>
      <section className="load-main" aria-label="Load run">
        {error ? <p className="error">{error}</p> : null}
        {compared ? (
          <CompareView a={compared[0]} b={compared[1]} />
        ) : live ? (
          <RunView
            key={live.id}
            title={`${live.profile} — running`}
            live
            series={live.series}
            levels={live.levels}
            xMax={live.durationMs / 1000}
            flags={liveFlags(live.series)}
            hottest={null}
          />
        ) : opened ? (
          <SavedRun run={opened} />
        ) : (
          <p className="muted placeholder">
            Pick a profile and start it: throughput, latency, errors and the objects&apos; states are drawn
            here every second, with the profile&apos;s stages and every sharding decision on the same time
            axis.
          </p>
        )}
        <HeatStrip />
      </section>
    </div>
  );
}

function ProfilePanel() {
  const { profiles, selected, draft, draftError, saving, starting, live } = useLoadStore(
    useShallow((s) => ({
      profiles: s.profiles,
      selected: s.selected,
      draft: s.draft,
      draftError: s.draftError,
      saving: s.saving,
      starting: s.starting,
      live: s.live,
    })),
  );
  const s = useLoadStore.getState();
  const names = Object.keys(profiles);
  const saved = selected !== null ? profiles[selected] : undefined;
  const dirty = selected !== null && draft !== JSON.stringify(saved ?? null, null, 2);
  return (
    <section className="load-profiles" aria-label="Load profiles">
      <h3>Profile</h3>
      {names.length === 0 ? (
        <p className="muted small">
          This project has no load profiles yet. Add one under <span className="mono">loadProfiles</span> in
          terrarium.json; the README shows the fields.
        </p>
      ) : (
        <select aria-label="Load profile" value={selected ?? ""} onChange={(e) => s.select(e.target.value)}>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      )}
      {saved?.description ? <p className="muted small">{saved.description}</p> : null}
      {selected !== null ? (
        <>
          <textarea
            aria-label="Profile JSON"
            className="mono profile-json"
            spellCheck={false}
            rows={14}
            value={draft}
            onChange={(e) => s.editDraft(e.target.value)}
          />
          <div className="load-actions">
            <button type="button" disabled={!dirty || saving} onClick={() => void s.saveDraft()}>
              {saving ? "Saving…" : "Save to terrarium.json"}
            </button>
            {live ? (
              <button type="button" className="danger" onClick={() => void s.stop()}>
                Stop
              </button>
            ) : (
              <button type="button" className="primary" disabled={starting} onClick={() => void s.start()}>
                {starting ? "Starting…" : dirty ? "Start (as edited)" : "Start"}
              </button>
            )}
          </div>
        </>
      ) : null}
      {draftError ? (
        <p className="error small" data-testid="profile-error">
          {draftError}
        </p>
      ) : null}
    </section>
  );
}

function RunHistory() {
  const { runs, picked, opened, live } = useLoadStore(
    useShallow((s) => ({ runs: s.runs, picked: s.picked, opened: s.opened, live: s.live })),
  );
  const s = useLoadStore.getState();
  return (
    <section className="load-history" aria-label="Run history">
      <div className="history-head">
        <h3>Runs</h3>
        <button type="button" disabled={picked.length !== 2} onClick={() => void s.compare()}>
          Compare {picked.length}/2
        </button>
      </div>
      {runs.length === 0 ? <p className="muted small">Every run is saved here, newest first.</p> : null}
      <ul className="plain" data-testid="runs">
        {runs.map((r) => (
          <li key={r.id} className={`run-item${opened?.id === r.id ? " selected" : ""}`}>
            <input
              type="checkbox"
              aria-label={`Compare run ${r.id}`}
              checked={picked.includes(r.id)}
              onChange={() => s.togglePick(r.id)}
            />
            <button
              type="button"
              className="run-open"
              disabled={live !== null}
              onClick={() => void s.openRun(r.id)}
              title={r.description}
            >
              <span className="run-name">{r.profile}</span>
              <RunVerdict run={r} />
              <span className="muted small">
                {formatTime(r.startedAt).slice(0, 8)} · {(r.elapsedMs / 1000).toFixed(1)}s ·{" "}
                {n1(r.throughput)} req/s · p99 {ms(r.p99Ms)}
                {r.errorRate > 0 ? ` · ${(r.errorRate * 100).toFixed(1)}% errors` : ""}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RunVerdict({ run }: { readonly run: RunInfo }) {
  const v = runVerdict(run);
  return (
    <span className={`run-ok ${v.kind}`} title={v.title} aria-label={v.title} data-testid="run-verdict">
      {v.mark}
    </span>
  );
}

function SavedRun({ run }: { readonly run: RunRecord }) {
  const s = run.summary;
  return (
    <>
      <RunView
        title={`${run.profile} — ${new Date(run.startedAt).toLocaleString()}`}
        live={false}
        series={run.series}
        levels={run.plan.levels}
        xMax={run.plan.durationMs / 1000}
        flags={s.flags}
        hottest={s.objects?.hottest ?? null}
        summary={s}
      />
      <SummaryTable run={run} />
      <RunCost runId={run.id} />
    </>
  );
}

function SummaryTable({ run }: { readonly run: RunRecord }) {
  const s = run.summary;
  const rows: [string, string][] = [
    ["Shape", s.description],
    ["Requests", `${n0(s.requests.sent)} sent, ${n0(s.requests.completed)} answered`],
    ["Throughput", `${n1(s.throughput.completed)} req/s`],
    [
      "Latency (from when due)",
      `p50 ${ms(s.latencyMs.p50)} · p90 ${ms(s.latencyMs.p90)} · p99 ${ms(s.latencyMs.p99)} · p99.9 ${ms(s.latencyMs["p99.9"])} · max ${ms(s.latencyMs.max)}`,
    ],
    ["Errors", `${(s.errorRate * 100).toFixed(2)}%${errorText(s.errors)}`],
    ...s.thresholds.map((t): [string, string] => [`Threshold ${t.threshold}`, t.ok ? "passed" : "failed"]),
    ["Generator", `${s.generator.cpuCores.toFixed(2)} cores, worst start lag ${ms(s.generator.maxLagMs)}`],
  ];
  return (
    <section aria-label="Summary">
      <h3>Summary</h3>
      <table className="result compact" data-testid="run-summary">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function errorText(errors: RunRecord["summary"]["errors"]): string {
  const parts = Object.entries(errors).map(([k, v]) => `${k} ${n0(v)}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function fit(c: Columns): Columns {
  return downsample(c, MAX_POINTS);
}

function RunView(props: {
  readonly title: string;
  readonly live: boolean;
  readonly series: readonly RunSecond[];
  readonly levels: readonly LevelPoint[];
  readonly xMax: number;
  readonly flags: readonly LimitFlag[];
  /** The run's hottest objects (a saved run); a live run shows the last second's. */
  readonly hottest: NonNullable<RunRecord["summary"]["objects"]>["hottest"] | null;
  /** A saved run's summary: its header shows the whole run. */
  readonly summary?: RunRecord["summary"];
}) {
  const { series, levels, xMax, live } = props;
  const charts = useMemo(() => runCharts(series), [series]);
  const bands = useMemo(() => stageBands(levels), [levels]);
  const scaling = useMemo(() => scalingMarks(series), [series]);
  const marks = useMemo<ChartMark[]>(
    () => scaling.map((m) => ({ t: m.t, label: `${m.from}→${m.to}` })),
    [scaling],
  );
  const kinds = useMemo(() => errorKinds(series), [series]);
  const throughput = useMemo(() => fit(charts.throughput), [charts]);
  const latency = useMemo(() => fit(charts.latency), [charts]);
  const errors = useMemo(() => fit(charts.errors), [charts]);
  const objects = useMemo(() => fit(charts.objects), [charts]);
  const last = series.at(-1);
  const sharded = series.some((s) => (s.engine?.shards.length ?? 0) > 0);
  const common = { bands, marks, xMax };
  return (
    <div className="run-view" data-testid="run-view" data-seconds={series.length}>
      <div className="run-head">
        <h3 className="keep-case" data-testid="run-title">
          {props.title}
        </h3>
        {props.summary ? (
          // A finished run reads as its whole: the summary's figures, not its last second's.
          <span className="muted small" data-testid="run-now">
            {(props.summary.elapsedMs / 1000).toFixed(1)}s · {n1(props.summary.throughput.completed)} req/s ·
            p99 {ms(props.summary.latencyMs.p99)} · {(props.summary.errorRate * 100).toFixed(1)}% errors
            (whole run)
          </span>
        ) : last ? (
          <span className="muted small" data-testid="run-now">
            {last.t}s · {n1(last.rps)} req/s · p99 {last.completed ? ms(last.latencyMs.p99) : "—"} · in flight{" "}
            {n0(last.inFlight)}
          </span>
        ) : (
          <span className="muted small">waiting for the first second…</span>
        )}
      </div>
      <HeldNote lines={props.summary ? (props.summary.heldBack ?? []) : liveHeld(series)} live={live} />
      <StageLegend bands={bands} />
      <div className="load-charts">
        <LoadChart
          title="Throughput"
          unit="req/s"
          x={throughput.x}
          lines={THROUGHPUT_LINES}
          data={[
            throughput.columns["answered"]!,
            throughput.columns["target"]!,
            throughput.columns["in flight"]!,
          ]}
          {...common}
        />
        <LoadChart
          title="Latency, from when each request was due"
          unit="ms"
          x={latency.x}
          lines={LATENCY_LINES}
          data={PERCENTILES.map((p) => latency.columns[p]!)}
          {...common}
        />
        <LoadChart
          title="Errors by kind"
          unit="/s"
          x={errors.x}
          lines={
            kinds.length
              ? kinds.map((k, i) => ({ label: k, color: ERROR_COLOR[k] ?? LINE[i % LINE.length]! }))
              : NO_ERRORS
          }
          data={kinds.length ? kinds.map((k) => errors.columns[k]!) : [errors.x.map(() => 0)]}
          {...common}
        />
        <LoadChart
          title={sharded ? "Objects by state, and shards" : "Objects by state"}
          unit=""
          x={objects.x}
          lines={sharded ? [...STATE_LINES(), SHARD_LINE] : STATE_LINES()}
          data={[
            ...LIVE_STATES.map((st) => objects.columns[st]!),
            ...(sharded ? [objects.columns["shards"]!] : []),
          ]}
          {...common}
        />
      </div>
      {scaling.length ? (
        <section aria-label="Scaling">
          <h3>Scaling</h3>
          <ul className="plain scaling-marks">
            {scaling.map((m, i) => (
              <li key={i} data-testid="scaling-mark">
                <span className="mono">{m.t.toFixed(1)}s</span> {m.className}{" "}
                <span className="mono">{m.base}</span> {m.cause}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {sharded ? <ScalerNote series={series} decided={scaling.length > 0} /> : null}
      {sharded ? (
        <p className="muted small">
          Sharding spreads keys over more objects: a key that moves to a new shard starts there with that
          shard&apos;s storage; what the old shard stored for it stays where it was.
        </p>
      ) : null}
      <div className="load-tables">
        <ClassTable series={series} live={live} />
        <HotTable series={series} hottest={props.hottest} />
      </div>
      <FlagList flags={props.flags} />
    </div>
  );
}

/** Why requests are (or were) slow or unanswered: never a silent hang. */
function HeldNote({ lines, live }: { readonly lines: readonly string[]; readonly live: boolean }) {
  if (!lines.length) return null;
  return (
    <section className="held-note" aria-label="What held requests back" data-testid="held-back">
      <h3>{live ? "What is holding requests back" : "What held requests back"}</h3>
      <ul className="plain">
        {lines.map((l) => (
          <li key={l}>{l}</li>
        ))}
      </ul>
    </section>
  );
}

/**
 * What the scaler saw at its last look at each sharded name: the window its
 * mean covers, the mean it compared, the target, and what it made of them.
 * The hottest-objects table's in-flight mean is the same kind of figure (a
 * time-average per object), so the two can be read side by side.
 */
function ScalerNote({
  series,
  decided,
}: {
  readonly series: readonly RunSecond[];
  readonly decided: boolean;
}) {
  const groups = [...series].reverse().find((s) => s.engine?.shards.length)?.engine?.shards ?? [];
  // The highest mean each name's scaler saw, and when: the last look of a finished run is after its load.
  const peak = new Map<string, { mean: number; t: number }>();
  for (const s of series)
    for (const g of s.engine?.shards ?? []) {
      const key = `${g.className} ${g.base}`;
      if (g.seen && g.seen.meanInFlight > (peak.get(key)?.mean ?? -1))
        peak.set(key, { mean: g.seen.meanInFlight, t: s.t });
    }
  // The busiest names first: a key per object (a UUID) makes one sharded name per request.
  const shown = [...groups]
    .sort(
      (a, b) =>
        (peak.get(`${b.className} ${b.base}`)?.mean ?? -1) -
          (peak.get(`${a.className} ${a.base}`)?.mean ?? -1) || b.shards - a.shards,
    )
    .slice(0, SCALER_NOTE_MAX);
  return (
    <div className="muted small scaler-note" aria-label="Scaler" data-testid="scaler-note">
      {decided ? null : <p>No sharding decision yet.</p>}
      <ul className="plain">
        {shown.map((g) => {
          const key = `${g.className} ${g.base}`;
          const p = peak.get(key);
          return (
            <li key={key}>
              {g.className} <span className="mono">{g.base}</span>:{" "}
              {g.seen
                ? `the scaler's last look saw a mean of ${n1(g.seen.meanInFlight)} requests in flight per shard over ${n1(g.seen.windowMs / 1000)} s (${pluralize(g.seen.shards, "shard")}), against the policy's target of ${n1(g.seen.targetInFlight)}: ${g.seen.verdict}.`
                : `${pluralize(g.shards, "shard")}; the scaler has not looked at it yet.`}
              {p && g.seen && p.mean > g.seen.meanInFlight
                ? ` Its highest mean in this run: ${n1(p.mean)} at ${p.t}s.`
                : null}
            </li>
          );
        })}
      </ul>
      {groups.length > shown.length ? (
        <p>and {pluralize(groups.length - shown.length, "more sharded name")}, less busy.</p>
      ) : null}
    </div>
  );
}

/** Sharded names the scaler note describes, busiest first. */
const SCALER_NOTE_MAX = 3;

const THROUGHPUT_LINES: ChartLine[] = [
  { label: "answered", color: "#4fb286", width: 2 },
  { label: "target", color: "#8b97a5", dash: [4, 4] },
  { label: "in flight", color: "#e9b949" },
];
const LATENCY_LINES: ChartLine[] = [
  { label: "p50", color: "#4fb286" },
  { label: "p90", color: "#5aa9e6" },
  { label: "p99", color: "#e9b949" },
  { label: "p99.9", color: "#e5636f" },
];
const NO_ERRORS: ChartLine[] = [{ label: "errors", color: "#4fb286" }];
const SHARD_LINE: ChartLine = { label: "shards", color: "#4cc9d8", width: 2.5, steps: true, dash: [6, 3] };
let stateLines: ChartLine[] | null = null;
function STATE_LINES(): ChartLine[] {
  stateLines ??= LIVE_STATES.map((st) => ({ label: st, color: stateColor(st), steps: true }));
  return stateLines;
}

function StageLegend({ bands }: { readonly bands: readonly StageBand[] }) {
  if (bands.length <= 1 && bands.every((b) => b.kind === "hold")) return null;
  return (
    <ol className="plain stage-legend" aria-label="Stages">
      {bands.map((b, i) => (
        <li key={i} className={`stage stage-${b.kind}`} data-testid="stage">
          {b.from}–{b.to}s {b.kind}{" "}
          {b.kind === "ramp" ? `${n1(b.fromLevel)}→${n1(b.toLevel)}` : n1(b.toLevel)}
        </li>
      ))}
    </ol>
  );
}

function ClassTable({ series, live }: { readonly series: readonly RunSecond[]; readonly live: boolean }) {
  const rows = useMemo(() => classRows(series, live ? LIVE_WINDOW_S : Infinity), [series, live]);
  if (!rows.length) return null;
  return (
    <section aria-label="Classes">
      <h3>Per class {live ? `(last ${LIVE_WINDOW_S}s)` : "(whole run)"}</h3>
      <table className="result compact" data-testid="class-table">
        <thead>
          <tr>
            <th>Class</th>
            <th className="num">req/s</th>
            <th className="num">errors</th>
            <th className="num">objects</th>
            <th className="num">p50</th>
            <th className="num">p99</th>
            <th className="num">CPU ms/s</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.className}>
              <td>{r.className}</td>
              <td className="num">{n1(r.rps)}</td>
              <td className="num">{n0(r.errors)}</td>
              <td className="num">{n0(r.objects)}</td>
              <td className="num">{ms(r.p50Ms)}</td>
              <td className="num">{ms(r.p99Ms)}</td>
              <td className="num">{n1(r.cpuMsPerSec)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function HotTable(props: {
  readonly series: readonly RunSecond[];
  readonly hottest: NonNullable<RunRecord["summary"]["objects"]>["hottest"] | null;
}) {
  const openObject = useUiStore((u) => u.openObject);
  const lastEngine = [...props.series].reverse().find((s) => s.engine)?.engine ?? null;
  const rows = props.hottest
    ? props.hottest.map((h) => ({
        id: h.id,
        className: h.className,
        name: h.name,
        rps: h.peakRps,
        inFlight: `${h.inFlightMax}`,
        meanMs: h.meanMs,
        maxMs: h.maxMs,
        cpuMs: h.cpuMs,
      }))
    : (lastEngine?.hottest ?? []).map((o) => ({
        id: o.id,
        className: o.className,
        name: o.name,
        rps: o.rps,
        inFlight: `${n1(o.inFlightMean)} / ${o.inFlightMax}`,
        meanMs: o.meanMs,
        maxMs: o.maxMs,
        cpuMs: o.cpuMs,
      }));
  if (!rows.length) return null;
  return (
    <section aria-label="Hottest objects">
      <h3>Hottest objects {props.hottest ? "(whole run)" : "(last second)"}</h3>
      <table className="result compact" data-testid="hot-table">
        <thead>
          <tr>
            <th>Object</th>
            <th>Class</th>
            <th className="num">{props.hottest ? "peak req/s" : "req/s"}</th>
            <th className="num">{props.hottest ? "in flight max" : "in flight mean / max"}</th>
            <th className="num">mean</th>
            <th className="num">max</th>
            <th className="num">CPU ms</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td>
                <button
                  type="button"
                  className="link mono hot-name"
                  onClick={() => openObject(r.id)}
                  title={r.name ? `${r.name}\n${r.id}` : r.id}
                >
                  {r.name ?? shortId(r.id)}
                </button>
              </td>
              <td>{r.className}</td>
              <td className="num">{n1(r.rps)}</td>
              <td className="num">{r.inFlight}</td>
              <td className="num">{ms(r.meanMs)}</td>
              <td className="num">{ms(r.maxMs)}</td>
              <td className="num">{n1(r.cpuMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function FlagList({ flags }: { readonly flags: readonly LimitFlag[] }) {
  if (!flags.length) return null;
  return (
    <section aria-label="Cloudflare limits" className="limit-flags">
      <h3>Cloudflare limits passed</h3>
      <ul className="plain">
        {flags.map((f) => (
          <li key={`${f.kind} ${f.objectId ?? ""}`} className="limit-flag" data-testid="limit-flag">
            <strong>
              {f.objectId ? `${f.className ?? "object"} ${f.name ?? shortId(f.objectId)}` : "the project"}:
            </strong>{" "}
            {f.observed}{" "}
            <span className="muted">
              (limit: {f.limit}; first at {(f.at / 1000).toFixed(1)}s)
            </span>
            <p className="small">{f.advice}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Every object, one cell each, coloured by its lifecycle state now. */
function HeatStrip() {
  const objects = useObjectsStore((s) => s.objects);
  const openObject = useUiStore((u) => u.openObject);
  const { cells, counts } = useMemo(() => {
    const sorted = [...objects].sort(
      (a, b) => a.className.localeCompare(b.className) || (a.name ?? a.id).localeCompare(b.name ?? b.id),
    );
    const counts = new Map<LifecycleState, number>();
    for (const o of objects) counts.set(o.state, (counts.get(o.state) ?? 0) + 1);
    return { cells: sorted.slice(0, HEAT_CELLS), counts };
  }, [objects]);
  if (!objects.length) return null;
  return (
    <section aria-label="Objects by state" className="heat">
      <h3>Objects by state</h3>
      <p className="heat-legend small">
        {LIFECYCLE_STATES.filter((st) => counts.get(st)).map((st) => (
          <span key={st} className={`heat-key ${stateClass(st)}`}>
            <i /> {st} {n0(counts.get(st) ?? 0)}
          </span>
        ))}
        {objects.length > HEAT_CELLS ? (
          <span className="muted">
            {" "}
            · the first {n0(HEAT_CELLS)} of {n0(objects.length)} shown
          </span>
        ) : null}
      </p>
      <div className="heat-strip" data-testid="heat-strip">
        {cells.map((o) => (
          <button
            key={o.id}
            type="button"
            className={`heat-cell ${stateClass(o.state)}`}
            data-state={o.state}
            title={`${o.className} ${o.name ?? o.id} — ${o.state}`}
            aria-label={`${o.className} ${o.name ?? shortId(o.id)}: ${o.state}`}
            onClick={() => openObject(o.id)}
          />
        ))}
      </div>
    </section>
  );
}

function CompareView({ a, b }: { readonly a: RunRecord; readonly b: RunRecord }) {
  const close = useLoadStore((s) => s.closeCompare);
  const rows = useMemo(() => compareRuns(a.summary, b.summary), [a, b]);
  const rps = useMemo(() => overlay(a.series, b.series, (s) => s.rps), [a, b]);
  const p99 = useMemo(() => overlay(a.series, b.series, (s) => s.latencyMs.p99), [a, b]);
  const xMax = Math.max(a.plan.durationMs, b.plan.durationMs) / 1000;
  const label = (r: RunRecord, k: string) => `${k}: ${r.profile} ${formatTime(r.startedAt).slice(0, 8)}`;
  const lines = (what: string): ChartLine[] => [
    { label: `A ${what}`, color: "#5aa9e6", width: 2 },
    { label: `B ${what}`, color: "#e9b949", width: 2, dash: [5, 3] },
  ];
  const fmt = (v: number, unit: string) =>
    unit === "ms" ? ms(v) : unit === "%" ? `${v.toFixed(2)}%` : unit === "req/s" ? `${n1(v)} req/s` : n0(v);
  return (
    <div className="compare" data-testid="compare">
      <div className="run-head">
        <h3>
          {label(a, "A")} vs {label(b, "B")}
        </h3>
        <button type="button" onClick={close}>
          Close
        </button>
      </div>
      <p className="muted small">
        A: {a.summary.description}. B: {b.summary.description}.
      </p>
      <table className="result compact" data-testid="compare-table">
        <thead>
          <tr>
            <th />
            <th className="num">A</th>
            <th className="num">B</th>
            <th className="num">B − A</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} data-verdict={r.verdict}>
              <th scope="row">{r.label}</th>
              <td className="num">{fmt(r.a, r.unit)}</td>
              <td className="num">{fmt(r.b, r.unit)}</td>
              <td className={`num delta ${r.verdict}`}>
                {r.delta > 0 ? "+" : r.delta < 0 ? "−" : ""}
                {fmt(Math.abs(r.delta), r.unit)}
                {r.ratio !== null && r.delta !== 0
                  ? ` (${r.ratio > 0 ? "+" : "−"}${Math.abs(r.ratio * 100).toFixed(0)}%)`
                  : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="load-charts">
        <LoadChart
          title="Throughput, A and B"
          unit="req/s"
          x={rps.x}
          lines={lines("answered")}
          data={[rps.a, rps.b]}
          xMax={xMax}
        />
        <LoadChart
          title="Latency p99, A and B"
          unit="ms"
          x={p99.x}
          lines={lines("p99")}
          data={[p99.a, p99.b]}
          xMax={xMax}
        />
      </div>
    </div>
  );
}
