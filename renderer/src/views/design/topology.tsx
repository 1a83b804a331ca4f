import type { ClassSummary, DesignInfo, ProjectInfo } from "../../../../runtime/api/contract.ts";
import { pluralize } from "../../components/format.ts";

// The project drawn the way the AIDevOS design draws it: clients, the
// orchestration layer, the Worker and its object classes, external systems;
// routes and subscriptions as edges. Hand-rolled SVG: a fixed column layout is
// all this needs, and it costs no dependency.

const COL = { clients: 20, orch: 230, classes: 520, external: 820 } as const;
const NODE_W = { clients: 160, orch: 200, classes: 220, external: 170 } as const;
const NODE_H = 46;
const ROW = 64;
const TOP = 56;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const right = (b: Box): [number, number] => [b.x + b.w, b.y + b.h / 2];
const left = (b: Box): [number, number] => [b.x, b.y + b.h / 2];

function curve(a: [number, number], b: [number, number]): string {
  const dx = Math.max(40, (b[0] - a[0]) / 2);
  return `M${a[0]},${a[1]} C${a[0] + dx},${a[1]} ${b[0] - dx},${b[1]} ${b[0]},${b[1]}`;
}

/** SVG text does not wrap: clip to what fits in a box of this width (about 6.5 px a character). */
function clip(text: string, width: number): string {
  const max = Math.floor((width - 24) / 6.5);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function Node(props: {
  readonly box: Box;
  readonly title: string;
  readonly detail?: string;
  readonly detail2?: string | undefined;
  readonly className?: string;
  readonly onClick?: () => void;
  readonly selected?: boolean;
  readonly testId?: string | undefined;
  readonly tooltip?: string | undefined;
}) {
  const { box, title, detail, onClick } = props;
  return (
    <g
      className={`topo-node ${props.className ?? ""} ${props.selected ? "selected" : ""} ${onClick ? "clickable" : ""}`}
      onClick={onClick}
      role={onClick ? "button" : undefined}
      tabIndex={onClick ? 0 : undefined}
      aria-label={onClick ? `${title}: open its code` : undefined}
      onKeyDown={(e) => {
        if (onClick && (e.key === "Enter" || e.key === " ")) {
          e.preventDefault();
          onClick();
        }
      }}
      data-testid={props.testId}
    >
      {props.tooltip ? <title>{props.tooltip}</title> : null}
      <rect x={box.x} y={box.y} width={box.w} height={box.h} rx={8} />
      <text x={box.x + 12} y={box.y + (detail ? 19 : 28)} className="topo-title">
        {clip(title, box.w * 0.85)}
      </text>
      {detail ? (
        <text x={box.x + 12} y={box.y + 36} className="topo-detail">
          {clip(detail, box.w)}
        </text>
      ) : null}
      {props.detail2 ? (
        <text x={box.x + 12} y={box.y + 51} className="topo-detail">
          {clip(props.detail2, box.w)}
        </text>
      ) : null}
    </g>
  );
}

/** A list as a short label: the first item and how many more (the full list is the edge's tooltip). */
function shortList(items: readonly string[]): string {
  const first = items[0] ?? "";
  const head = first.length > 18 ? `${first.slice(0, 17)}…` : first;
  return items.length > 1 ? `${head} +${items.length - 1}` : head;
}

function Edge(props: {
  readonly from: [number, number];
  readonly to: [number, number];
  readonly label?: string;
  /** Where the label goes: past the middle, or beside the arrowhead, above or below it. */
  readonly labelAt?: "middle" | "end-above" | "end-below";
  /** The full text behind a shortened label. */
  readonly title?: string;
  readonly kind: "request" | "route" | "binding" | "subscription" | "external";
}) {
  const { from, to, label, kind, labelAt = "middle", title } = props;
  // Edges into the class column converge; their labels sit by their own
  // arrowheads (one class per row), so they never pile up in the middle.
  const at: [number, number, "middle" | "end"] =
    labelAt === "middle"
      ? [from[0] + (to[0] - from[0]) * 0.55, (from[1] + to[1]) / 2 - 5, "middle"]
      : [to[0] - 10, labelAt === "end-above" ? to[1] - 5 : to[1] + 12, "end"];
  return (
    <g className={`topo-edge ${kind}`} data-edge-kind={kind}>
      {title ? <title>{title}</title> : null}
      <path d={curve(from, to)} markerEnd="url(#topo-arrow)" />
      {label ? (
        <text x={at[0]} y={at[1]} textAnchor={at[2]}>
          {label}
        </text>
      ) : null}
    </g>
  );
}

function assetsTooltip(a: NonNullable<DesignInfo["assets"]>): string {
  const first =
    a.runWorkerFirst === true
      ? "every request"
      : a.runWorkerFirst === false
        ? "none"
        : a.runWorkerFirst.join(", ");
  return `html_handling: ${a.htmlHandling}\nnot_found_handling: ${a.notFoundHandling}\nrun_worker_first: ${first}`;
}

export function Topology(props: {
  readonly design: DesignInfo;
  readonly project: ProjectInfo | null;
  readonly classes: readonly ClassSummary[];
  readonly selectedClass: string | null;
  readonly onSelectClass: (className: string) => void;
}) {
  const { design, project, classes, selectedClass, onSelectClass } = props;
  const stats = new Map(classes.map((c) => [c.className, c]));
  const objects = classes.reduce((n, c) => n + c.objects, 0);
  const live = classes.reduce((n, c) => n + c.live, 0);

  const clientNames = ["Web app", "Mobile app", "API client · curl", "Terrarium console"];
  const clientBoxes = clientNames.map((_, i) => ({
    x: COL.clients,
    y: TOP + i * ROW,
    w: NODE_W.clients,
    h: NODE_H,
  }));
  const orch = [
    {
      key: "registry",
      title: "Service Registry",
      detail: `${pluralize(objects, "object")} · ${pluralize(design.classes.length, "class", "classes")}`,
    },
    { key: "router", title: "Request Router", detail: project?.url ?? "not listening" },
    { key: "lifecycle", title: "Lifecycle Manager", detail: `${live} live` },
    { key: "state", title: "State Manager", detail: "SQLite per object · alarms" },
    {
      key: "bus",
      title: "Event Bus",
      detail: design.eventBusBinding
        ? `env.${design.eventBusBinding} · ${pluralize(design.subscriptions.length, "subscription")}`
        : "not used",
    },
  ];
  const orchBoxes = orch.map((_, i) => ({
    x: COL.orch + 10,
    y: TOP + i * ROW,
    w: NODE_W.orch - 20,
    h: NODE_H,
  }));
  const routerBox = orchBoxes[1]!;
  const busBox = orchBoxes[4]!;

  const entryBox = { x: COL.classes, y: TOP, w: NODE_W.classes, h: NODE_H };
  const classBoxes = design.classes.map((_, i) => ({
    x: COL.classes,
    y: TOP + (i + 1) * ROW + 10,
    w: NODE_W.classes,
    h: NODE_H + 12,
  }));

  const configured = (kind: DesignInfo["external"][number]["kind"]) =>
    design.external.filter((e) => e.kind === kind);
  const assets = design.assets;
  // An edge from the Worker means env has a binding to it (for assets: env.ASSETS).
  const externals: {
    title: string;
    items: DesignInfo["external"];
    always?: boolean;
    detail?: string;
    /** Said after the bindings (the AI stand-in: "not a model"). */
    note?: string;
    bound?: boolean;
  }[] = [
    { title: "Database · D1", items: configured("d1") },
    { title: "Storage · R2", items: configured("r2") },
    ...(configured("kv").length > 0 ? [{ title: "Key-value · KV", items: configured("kv") }] : []),
    ...(configured("queue").length > 0 ? [{ title: "Queues", items: configured("queue") }] : []),
    ...(configured("email").length > 0 ? [{ title: "Email · send_email", items: configured("email") }] : []),
    ...(configured("ai-stand-in").length > 0
      ? [{ title: "AI · stand-in", items: configured("ai-stand-in"), note: "not a model" }]
      : []),
    ...(configured("remote").length > 0 ? [{ title: "Cloudflare only", items: configured("remote") }] : []),
    { title: "Third-party APIs", items: [], always: true },
    { title: "Variables", items: configured("vars") },
    {
      title: "Static assets",
      items: [],
      always: assets !== null,
      bound: assets?.binding != null,
      detail: assets
        ? `${assets.directory}${assets.binding ? ` · env.${assets.binding}` : ""}`
        : "not configured",
    },
  ];
  const externalBoxes = externals.map((_, i) => ({
    x: COL.external,
    y: TOP + i * ROW,
    w: NODE_W.external,
    h: NODE_H,
  }));

  // The project's other Workers (-c), and those its bindings name that do not run: a box each, under the externals.
  const own = design.workers[0];
  const others = design.workers.slice(1);
  const selfBindings = (own?.services ?? []).filter((x) => x.service === own?.name);
  const target = (x: { service: string; entrypoint: string | null }): string =>
    x.entrypoint ? `${x.service}.${x.entrypoint}` : x.service;
  const workerBoxes = others.map((_, i) => ({
    x: COL.external,
    y: TOP + (externals.length + i) * ROW + 28,
    w: NODE_W.external,
    h: NODE_H + 12,
  }));

  const rows = Math.max(5, design.classes.length + 1.4, externals.length + others.length + 0.6);
  const height = TOP + rows * ROW + 30;
  const groupBox = {
    x: COL.classes - 10,
    y: TOP - 12,
    w: NODE_W.classes + 20,
    h: (design.classes.length + 1) * ROW + 34,
  };
  /** Externals hang off the Worker group: every class and the entry share one env. */
  const groupExit = (y: number): [number, number] => [
    groupBox.x + groupBox.w,
    Math.min(Math.max(y, groupBox.y + 20), groupBox.y + groupBox.h - 20),
  ];

  return (
    <svg
      className="topology"
      viewBox={`0 0 1010 ${height}`}
      width="100%"
      preserveAspectRatio="xMinYMin meet"
      // NOTE: no minimum width: the whole topology scales to the canvas, so
      // the external systems on its right are never cut off on a small screen.
      style={{ maxHeight: height }}
      role="group"
      aria-label="Project topology"
      data-testid="topology"
    >
      <defs>
        <marker
          id="topo-arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="6"
          markerHeight="6"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" />
        </marker>
      </defs>
      <text x={COL.clients} y={28} className="topo-col">
        Clients
      </text>
      <text x={COL.orch} y={28} className="topo-col">
        Orchestration layer
      </text>
      <text x={COL.classes} y={28} className="topo-col">
        {own ? `Worker ${own.name}` : "Worker"} &amp; Durable Objects
      </text>
      <text x={COL.external} y={28} className="topo-col">
        External systems
      </text>
      <rect
        className="topo-group"
        x={COL.orch}
        y={TOP - 12}
        width={NODE_W.orch}
        height={orch.length * ROW + 6}
        rx={12}
      />
      <rect
        className="topo-group"
        x={groupBox.x}
        y={groupBox.y}
        width={groupBox.w}
        height={groupBox.h}
        rx={12}
      />

      {clientBoxes.map((b) => (
        <Edge key={`c${b.y}`} from={right(b)} to={left(routerBox)} kind="request" />
      ))}
      <Edge from={right(routerBox)} to={left(entryBox)} kind="request" label="fetch" />
      {design.classes.map((c, i) => {
        const routes = design.routes.filter((r) => c.bindings.includes(r.binding));
        const subs = design.subscriptions.filter((s) => c.bindings.includes(s.binding));
        const box = classBoxes[i]!;
        return (
          <g key={c.className}>
            {routes.length ? (
              <Edge
                from={right(routerBox)}
                to={left(box)}
                kind="route"
                label={shortList(routes.map((r) => r.pattern))}
                labelAt="end-above"
                title={`routes: ${routes.map((r) => r.pattern).join(", ")}`}
              />
            ) : null}
            {subs.length ? (
              <Edge
                from={right(busBox)}
                to={left(box)}
                kind="subscription"
                label={shortList([...new Set(subs.map((s) => s.topic))])}
                labelAt="end-below"
                title={`subscribed to: ${[...new Set(subs.map((s) => `${s.topic} → ${s.method}()`))].join(", ")}`}
              />
            ) : null}
          </g>
        );
      })}
      {externals.map((e, i) =>
        e.items.length || e.bound ? (
          <Edge
            key={e.title}
            from={groupExit(externalBoxes[i]!.y + NODE_H / 2)}
            to={left(externalBoxes[i]!)}
            kind="external"
          />
        ) : null,
      )}

      {others.map((w, i) => {
        const bound = (own?.services ?? []).filter((x) => x.service === w.name);
        return bound.length ? (
          <Edge
            key={`svc-${w.name}`}
            from={groupExit(workerBoxes[i]!.y + NODE_H / 2)}
            to={left(workerBoxes[i]!)}
            kind="binding"
            label={shortList(bound.map((x) => `env.${x.binding}`))}
            labelAt="end-above"
            title={`service bindings: ${bound.map((x) => `env.${x.binding} → ${target(x)}`).join(", ")}`}
          />
        ) : null;
      })}

      {clientBoxes.map((b, i) => (
        <Node key={clientNames[i]} box={b} title={clientNames[i]!} className="client" />
      ))}
      {orch.map((o, i) => (
        <Node
          key={o.key}
          box={orchBoxes[i]!}
          title={o.title}
          detail={o.detail}
          className={`orch orch-${o.key}`}
        />
      ))}
      <Node
        box={entryBox}
        title="Entry Worker"
        detail={design.main ?? "none: assets only"}
        className="entry"
        testId="entry-worker"
        tooltip={
          selfBindings.length
            ? `service bindings to itself: ${selfBindings.map((x) => `env.${x.binding} → ${target(x)}`).join(", ")}`
            : undefined
        }
      />
      {design.classes.map((c, i) => {
        const s = stats.get(c.className);
        return (
          <Node
            key={c.className}
            box={classBoxes[i]!}
            title={c.className}
            detail={`${c.kind ?? "Custom"} · env.${c.bindings.join(", env.")}`}
            detail2={`${pluralize(s?.objects ?? 0, "object")}, ${s?.live ?? 0} live`}
            className="do-class"
            selected={selectedClass === c.className}
            onClick={() => onSelectClass(c.className)}
            testId={`class-${c.className}`}
            tooltip={c.notes ?? c.sourceFile ?? undefined}
          />
        );
      })}
      {others.length ? (
        <text x={COL.external} y={workerBoxes[0]!.y - 8} className="topo-col">
          Other Workers
        </text>
      ) : null}
      {others.map((w, i) => (
        <Node
          key={`worker-${w.name}`}
          box={workerBoxes[i]!}
          title={w.name}
          detail={w.running ? (w.configFile ?? "") : "not running"}
          detail2={
            !w.running
              ? "add it with -c"
              : w.services.length
                ? `calls ${shortList(w.services.map((x) => target(x)))}`
                : "no service bindings"
          }
          className={`worker ${w.running ? "" : "off"}`}
          testId={`worker-${w.name}`}
          tooltip={
            w.services.length
              ? w.services.map((x) => `env.${x.binding} → ${target(x)}`).join("\n")
              : undefined
          }
        />
      ))}
      {externals.map((e, i) => (
        <Node
          key={e.title}
          box={externalBoxes[i]!}
          title={e.title}
          detail={
            e.items.length
              ? `${e.items.map((x) => x.binding).join(", ")}${e.note ? ` · ${e.note}` : ""}`
              : (e.detail ?? (e.always ? "outbound fetch" : "not configured"))
          }
          className={`external ${e.items.length || e.always ? "" : "off"}`}
          testId={e.title === "Static assets" ? "external-assets" : `external-${e.title}`}
          tooltip={
            e.title === "Static assets" && assets
              ? assetsTooltip(assets)
              : e.items.some((x) => x.detail)
                ? e.items.map((x) => `env.${x.binding}: ${x.detail ?? ""}`).join("\n")
                : undefined
          }
        />
      ))}
    </svg>
  );
}
