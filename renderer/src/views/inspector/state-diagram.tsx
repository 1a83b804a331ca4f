import { useMemo } from "react";
import type { LifecycleState, TransitionRecord } from "../../../../runtime/api/contract.ts";
import { ALLOWED_TRANSITIONS, LIFECYCLE_STATES } from "../../../../runtime/shared/lifecycle-model.ts";
import { stateClass } from "../../components/format.ts";

// The seed's state machine, drawn by hand: every state, every legal edge, the
// current state lit and each edge labelled with how often this object took it.

const W = 112;
const H = 34;

const POS: Record<LifecycleState, readonly [number, number]> = {
  Created: [66, 210],
  Initializing: [236, 210],
  Active: [430, 210],
  Processing: [270, 55],
  Updating: [430, 45],
  Scaling: [590, 55],
  Idle: [430, 350],
  Hibernating: [236, 350],
  Terminating: [668, 350],
};

/** Edges bent away from the straight line: pairs drawn both ways, and one that would cross a node. */
function bendOf(from: LifecycleState, to: LifecycleState): number {
  // Under Idle, which sits between them.
  if (from === "Hibernating" && to === "Terminating") return 30;
  const back = (ALLOWED_TRANSITIONS[to] as readonly LifecycleState[]).includes(from);
  return back ? 16 : 0;
}

/** Where the ray from a node's centre towards `toward` leaves its box. */
function exitPoint(c: readonly [number, number], toward: readonly [number, number]): [number, number] {
  const dx = toward[0] - c[0];
  const dy = toward[1] - c[1];
  const hw = W / 2 + 3;
  const hh = H / 2 + 3;
  const t = Math.min(dx === 0 ? Infinity : hw / Math.abs(dx), dy === 0 ? Infinity : hh / Math.abs(dy));
  return [c[0] + dx * t, c[1] + dy * t];
}

interface Edge {
  from: LifecycleState;
  to: LifecycleState;
  path: string;
  label: [number, number];
  count: number;
}

export function StateDiagram(props: {
  readonly current: LifecycleState | null;
  readonly transitions: readonly TransitionRecord[];
}) {
  const { current, transitions } = props;
  const counts = useMemo(() => {
    const m = new Map<string, number>();
    for (const t of transitions) {
      if (t.from) m.set(`${t.from}>${t.to}`, (m.get(`${t.from}>${t.to}`) ?? 0) + 1);
    }
    return m;
  }, [transitions]);

  const edges: Edge[] = [];
  for (const from of LIFECYCLE_STATES) {
    for (const to of ALLOWED_TRANSITIONS[from] as readonly LifecycleState[]) {
      const a = POS[from];
      const b = POS[to];
      const dx = b[0] - a[0];
      const dy = b[1] - a[1];
      const len = Math.hypot(dx, dy);
      const bend = bendOf(from, to);
      const mid: [number, number] = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
      const ctrl: [number, number] = [mid[0] - (dy / len) * bend * 2, mid[1] + (dx / len) * bend * 2];
      const p0 = exitPoint(a, ctrl);
      const p1 = exitPoint(b, ctrl);
      const label: [number, number] = [
        0.25 * p0[0] + 0.5 * ctrl[0] + 0.25 * p1[0],
        0.25 * p0[1] + 0.5 * ctrl[1] + 0.25 * p1[1],
      ];
      edges.push({
        from,
        to,
        path: `M${p0[0]},${p0[1]} Q${ctrl[0]},${ctrl[1]} ${p1[0]},${p1[1]}`,
        label,
        count: counts.get(`${from}>${to}`) ?? 0,
      });
    }
  }

  return (
    <svg
      className="state-diagram"
      viewBox="0 0 740 410"
      role="img"
      aria-label={`Lifecycle state diagram, current state ${current ?? "unknown"}`}
      data-testid="state-diagram"
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" className="arrow-head" />
        </marker>
        <marker
          id="arrow-used"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" className="arrow-head used" />
        </marker>
      </defs>
      {edges.map((e) => (
        <g
          key={`${e.from}>${e.to}`}
          className={`edge ${e.count ? "used" : ""}`}
          data-edge={`${e.from}>${e.to}`}
          data-count={e.count}
        >
          <title>
            {e.from} → {e.to}: {e.count}
          </title>
          <path d={e.path} markerEnd={`url(#${e.count ? "arrow-used" : "arrow"})`} />
          <rect x={e.label[0] - 13} y={e.label[1] - 9} width={26} height={18} rx={9} />
          <text x={e.label[0]} y={e.label[1] + 4} textAnchor="middle">
            {e.count}
          </text>
        </g>
      ))}
      {LIFECYCLE_STATES.map((s) => {
        const [x, y] = POS[s];
        const lit = s === current;
        return (
          <g
            key={s}
            className={`node ${stateClass(s)} ${lit ? "current" : ""}`}
            data-state-node={s}
            aria-current={lit ? "true" : undefined}
          >
            <rect x={x - W / 2} y={y - H / 2} width={W} height={H} rx={8} />
            <text x={x} y={y + 5} textAnchor="middle">
              {s}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
