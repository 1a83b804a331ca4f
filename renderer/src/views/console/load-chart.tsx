import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { StageBand } from "./load-series.ts";

/** A vertical line on the time axis: a sharding decision. */
export interface ChartMark {
  readonly t: number;
  readonly label: string;
}

export interface ChartLine {
  readonly label: string;
  readonly color: string;
  readonly dash?: readonly number[];
  /** Draw as steps (counts of objects, shards), not a slope. */
  readonly steps?: boolean;
  readonly width?: number;
}

export interface LoadChartProps {
  readonly title: string;
  readonly unit: string;
  readonly x: readonly number[];
  readonly lines: readonly ChartLine[];
  readonly data: readonly (readonly (number | null)[])[];
  readonly bands?: readonly StageBand[];
  readonly marks?: readonly ChartMark[];
  /** The x range to show (a live run's whole planned length), in seconds. */
  readonly xMax?: number;
  readonly height?: number;
}

const BAND_FILL: Record<StageBand["kind"], string | null> = {
  ramp: "rgba(90, 169, 230, 0.10)",
  hold: null,
  spike: "rgba(229, 99, 111, 0.16)",
};
const MARK = "#4cc9d8";

/**
 * Stage bands under the lines and sharding marks over them, drawn on the
 * chart's own canvas so they share its time axis exactly.
 */
function overlayPlugin(
  get: () => { bands: readonly StageBand[]; marks: readonly ChartMark[] },
): uPlot.Plugin {
  return {
    hooks: {
      drawClear: (u) => {
        const { ctx, bbox } = u;
        ctx.save();
        for (const b of get().bands) {
          const fill = BAND_FILL[b.kind];
          if (!fill) continue;
          const x0 = u.valToPos(b.from, "x", true);
          const x1 = u.valToPos(b.to, "x", true);
          ctx.fillStyle = fill;
          ctx.fillRect(x0, bbox.top, Math.max(1, x1 - x0), bbox.height);
        }
        ctx.restore();
      },
      draw: (u) => {
        const { ctx, bbox } = u;
        const px = devicePixelRatio;
        ctx.save();
        ctx.strokeStyle = MARK;
        ctx.fillStyle = MARK;
        ctx.lineWidth = px;
        ctx.setLineDash([4 * px, 3 * px]);
        ctx.font = `${10 * px}px system-ui, sans-serif`;
        for (const m of get().marks) {
          const x = Math.round(u.valToPos(m.t, "x", true));
          if (x < bbox.left || x > bbox.left + bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, bbox.top);
          ctx.lineTo(x, bbox.top + bbox.height);
          ctx.stroke();
          ctx.fillText(m.label, x + 3 * px, bbox.top + 11 * px);
        }
        ctx.restore();
      },
    },
  };
}

/** One uPlot chart: made once per set of lines, fed new data as it comes. */
export function LoadChart(props: LoadChartProps) {
  const { title, unit, x, lines, data, bands = [], marks = [], xMax, height = 170 } = props;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const overlay = useRef({ bands, marks });
  overlay.current = { bands, marks };
  const xMaxRef = useRef(xMax);
  xMaxRef.current = xMax;
  const shape = lines.map((l) => `${l.label}:${l.color}:${l.dash?.join(",") ?? ""}`).join("|");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: {
          time: false,
          range: (_u, lo, hi) => [0, Math.max(hi, xMaxRef.current ?? 0, lo + 1)],
        },
        y: { range: (_u, _lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] },
      },
      axes: [
        {
          stroke: "#8b97a5",
          grid: { stroke: "#26303a", width: 1 },
          ticks: { stroke: "#26303a" },
          values: (_u, vals) => vals.map((v) => `${v}s`),
        },
        {
          stroke: "#8b97a5",
          grid: { stroke: "#26303a", width: 1 },
          ticks: { stroke: "#26303a" },
          size: 52,
        },
      ],
      series: [
        { label: "t", value: (_u, v) => (v === null ? "–" : `${v}s`) },
        ...lines.map((l): uPlot.Series => ({
          label: l.label,
          stroke: l.color,
          width: l.width ?? 1.5,
          spanGaps: false,
          ...(l.dash ? { dash: [...l.dash] } : {}),
          ...(l.steps ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
          value: (_u, v) => (v === null ? "–" : `${Math.round(v * 100) / 100}${unit ? ` ${unit}` : ""}`),
        })),
      ],
      plugins: [overlayPlugin(() => overlay.current)],
    };
    const u = new uPlot(opts, [[], ...lines.map(() => [])] as uPlot.AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // NOTE: `lines` is compared by its shape: a new array with the same lines keeps the chart.
  }, [shape, height, unit]);

  useEffect(() => {
    plot.current?.setData([x as number[], ...(data as (number | null)[][])] as uPlot.AlignedData);
  }, [x, data, shape]);

  useEffect(() => {
    plot.current?.redraw(false);
  }, [bands, marks, xMax]);

  return (
    <figure className="load-chart" data-testid="load-chart" data-points={x.length}>
      <figcaption>{title}</figcaption>
      <div ref={box} className="load-chart-plot" />
    </figure>
  );
}
