import { existsSync } from "node:fs";
import { join } from "node:path";
import { TraceStore, type SpanRecord, type TraceDetail, type TraceSummary } from "../state/traces.ts";
import { fail, projectFolder } from "./common.ts";
import { dataFolder, when } from "./snapshot.ts";
import { parseCommand, usageError } from "./commands.ts";

/**
 * `terrarium traces` lists a project's traces (docs/traces.md), newest
 * first, filtered by path, status and object, or shows one as a tree of
 * spans with their log lines. It reads <data>/traces.sqlite, also while a
 * Terrarium serves the folder.
 */

function ms(n: number): string {
  return n < 10 ? `${n.toFixed(2)} ms` : n < 1000 ? `${n.toFixed(0)} ms` : `${(n / 1000).toFixed(2)} s`;
}

function outcome(s: { status: number | null; error: string | null }): string {
  return s.status !== null ? String(s.status) : s.error ? "error" : "ok";
}

function summaryLine(t: TraceSummary): string {
  return `${t.traceId}  ${when(t.start)}  ${outcome(t).padEnd(5)}  ${ms(t.durationMs).padStart(9)}  ${String(t.spanCount).padStart(3)} spans  ${t.name}${t.classes.length ? `  (${t.classes.join(" -> ")})` : ""}`;
}

/** One trace as text: each span under its parent, with its offset, duration, object and outcome, and its log lines. */
export function traceText(t: TraceDetail): string {
  const lines = [
    `${t.name}  ${outcome(t)}  ${ms(t.durationMs)}  ${t.spanCount} spans  trace ${t.traceId}  ${when(t.start)}`,
  ];
  const ids = new Set(t.spans.map((s) => s.spanId));
  const children = new Map<string | null, SpanRecord[]>();
  for (const s of t.spans) {
    const parent = s.parentId === null || ids.has(s.parentId) ? s.parentId : (t.spans[0]?.spanId ?? null);
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const walk = (parent: string | null, depth: number): void => {
    for (const s of [...(children.get(parent) ?? [])].sort((a, b) => a.start - b.start)) {
      const pad = "  ".repeat(depth + 1);
      const object = s.className ? `  ${s.className} ${s.objectName ?? s.objectId?.slice(0, 12) ?? ""}` : "";
      const state = s.state ? ` (was ${s.state})` : "";
      lines.push(
        `${pad}+${ms(s.start - t.start)}  ${ms(s.durationMs)}  ${s.kind} ${s.name}${object}${state}  ${outcome(s)}${s.error ? `: ${s.error}` : ""}`,
      );
      for (const l of t.logs.filter((x) => x.spanId === s.spanId))
        lines.push(`${pad}    ${l.level.padEnd(5)} ${l.message}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk(null, 0);
  return `${lines.join("\n")}\n`;
}

/** `terrarium traces [projectDir] [--path P] [--status S] [--object O] [--limit N] [--show ID] [--json]` */
export async function tracesCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("traces", argv);
  const dataDir = dataFolder(projectFolder(positionals), values.data);
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    usageError(`--limit takes 1 to 1000, got "${values.limit}"`);
  if (!existsSync(join(dataDir, "traces.sqlite")))
    fail(`no traces in ${dataDir} (serve the project and send it a request, or pass --data DIR)`);
  const store = new TraceStore(dataDir);
  try {
    const show = values.show;
    if (show !== undefined) {
      const id = show.toLowerCase();
      // A prefix is enough when it names one trace among the newest.
      const match = /^[0-9a-f]{32}$/.test(id)
        ? [id]
        : store
            .list({ limit: 1000 })
            .map((t) => t.traceId)
            .filter((t) => t.startsWith(id));
      if (match.length > 1) fail(`${show} matches ${match.length} traces; give more digits`);
      const trace = match[0] ? store.get(match[0]) : null;
      if (!trace) fail(`no trace ${show} (terrarium traces lists them; the oldest are dropped past the cap)`);
      process.stdout.write(values.json ? `${JSON.stringify(trace, null, 2)}\n` : traceText(trace));
      return;
    }
    let traces: TraceSummary[];
    try {
      traces = store.list({ path: values.path, status: values.status, object: values.object, limit });
    } catch (e) {
      return usageError((e as Error).message);
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(traces, null, 2)}\n`);
      return;
    }
    if (traces.length === 0) {
      process.stdout.write("no traces match\n");
      return;
    }
    for (const t of traces) process.stdout.write(`${summaryLine(t)}\n`);
  } finally {
    store.close();
  }
}
