import { CLOUDFLARE_PRICES, type CloudflarePrices } from "../shared/cloudflare-prices.ts";
import type { ClassUsage } from "../state/usage-meter.ts";

/**
 * What a stretch of traffic would cost on Cloudflare each month if it went
 * on at the same rate: the usage of a load run (or of everything since the
 * project started) scaled from its window to a 30-day month, priced with
 * CLOUDFLARE_PRICES, free allowances taken off the totals (they are per
 * account), and each class given its share of every line.
 */

const MONTH_MS = 30 * 24 * 3600 * 1000;
const GB = 1e9;

export type CostMetric = "requests" | "duration" | "rowsRead" | "rowsWritten" | "storage";

export interface CostLine {
  metric: CostMetric;
  /** "requests", "GB-s", "rows", "GB-month". */
  unit: string;
  /** Used in the window (storage: held now). */
  measured: number;
  /** At the window's rate for a month (storage: as held now). */
  monthly: number;
  included: number;
  billable: number;
  usd: number;
}

export interface ClassCost {
  className: string;
  usage: ClassUsage;
  storageBytes: number;
  /** Requests as billed: HTTP, RPC, alarms and events, plus WebSocket messages at 20:1. */
  billedRequests: number;
  gbSeconds: number;
  /** This class's share of each line's cost, and their sum. */
  usd: Record<CostMetric, number>;
  totalUsd: number;
}

export interface CostEstimate {
  windowMs: number;
  prices: { source: string; asOf: string; plan: string; baseMonthlyUsd: number };
  lines: CostLine[];
  /** Usage charges a month at this rate (the plan's subscription not included). */
  totalUsd: number;
  byClass: ClassCost[];
  /** What would change the bill, the largest effect first. */
  notes: string[];
}

export interface CostInput {
  windowMs: number;
  byClass: Record<string, ClassUsage>;
  /** Storage held now, per class. */
  storageBytes: Record<string, number>;
}

/** A line's price per unit, its monthly allowance, and whether it is a level held (storage) rather than a flow. */
interface Rate {
  price: number;
  included: number;
  unit: string;
  isLevel: boolean;
}

function billedRequests(u: ClassUsage, p: CloudflarePrices): number {
  return u.requests - u.wsMessages + u.wsMessages / p.wsMessagesPerRequest;
}

function usd(n: number): string {
  if (n === 0) return "$0";
  if (n < 0.01) return "<$0.01";
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function pct(n: number): string {
  return `${n < 10 ? n.toFixed(1) : Math.round(n)}%`;
}

export function estimateCost(input: CostInput, p: CloudflarePrices = CLOUDFLARE_PRICES): CostEstimate {
  const windowMs = Math.max(1, input.windowMs);
  const scale = MONTH_MS / windowMs;
  const classes = [...new Set([...Object.keys(input.byClass), ...Object.keys(input.storageBytes)])].sort();
  const zero: ClassUsage = { requests: 0, wsMessages: 0, activeMs: 0, rowsRead: 0, rowsWritten: 0 };
  const per = classes.map((className) => {
    const u = input.byClass[className] ?? zero;
    return {
      className,
      u,
      storageBytes: input.storageBytes[className] ?? 0,
      quantities: {
        requests: billedRequests(u, p),
        duration: (u.activeMs / 1000) * p.billedMemoryGb,
        rowsRead: u.rowsRead,
        rowsWritten: u.rowsWritten,
        storage: (input.storageBytes[className] ?? 0) / GB,
      } satisfies Record<CostMetric, number>,
    };
  });
  const perMillion = (rate: { usdPerMillion: number; includedPerMonth: number }, unit: string): Rate => ({
    price: rate.usdPerMillion / 1e6,
    included: rate.includedPerMonth,
    unit,
    isLevel: false,
  });
  const rates: Record<CostMetric, Rate> = {
    requests: perMillion(p.requests, "requests"),
    duration: perMillion(p.durationGbS, "GB-s"),
    rowsRead: perMillion(p.rowsRead, "rows"),
    rowsWritten: perMillion(p.rowsWritten, "rows"),
    storage: {
      price: p.storageGbMonth.usdPerUnit,
      included: p.storageGbMonth.includedPerMonth,
      unit: "GB-month",
      isLevel: true,
    },
  };
  const metrics: CostMetric[] = ["requests", "duration", "rowsRead", "rowsWritten", "storage"];
  const lines: CostLine[] = metrics.map((metric) => {
    const r = rates[metric];
    const measured = per.reduce((s, c) => s + c.quantities[metric], 0);
    const monthly = r.isLevel ? measured : measured * scale;
    const billable = Math.max(0, monthly - r.included);
    return {
      metric,
      unit: r.unit,
      measured,
      monthly,
      included: r.included,
      billable,
      usd: billable * r.price,
    };
  });
  const byLine = new Map(lines.map((l) => [l.metric, l]));
  const byClass: ClassCost[] = per.map((c) => {
    const share = {} as Record<CostMetric, number>;
    for (const m of metrics) {
      const line = byLine.get(m)!;
      share[m] = line.measured > 0 ? (line.usd * c.quantities[m]) / line.measured : 0;
    }
    return {
      className: c.className,
      usage: c.u,
      storageBytes: c.storageBytes,
      billedRequests: c.quantities.requests,
      gbSeconds: c.quantities.duration,
      usd: share,
      totalUsd: metrics.reduce((s, m) => s + share[m], 0),
    };
  });
  const totalUsd = lines.reduce((s, l) => s + l.usd, 0);
  return {
    windowMs,
    prices: { source: p.source, asOf: p.asOf, plan: p.plan, baseMonthlyUsd: p.baseMonthlyUsd },
    lines,
    totalUsd,
    byClass,
    notes: costNotes(lines, per, windowMs, p),
  };
}

/** What would change the estimate: the levers that matter for this traffic. */
function costNotes(
  lines: CostLine[],
  per: { className: string; u: ClassUsage; quantities: Record<CostMetric, number> }[],
  windowMs: number,
  p: CloudflarePrices,
): string[] {
  const notes: { weight: number; text: string }[] = [];
  const line = (m: CostMetric): CostLine => lines.find((l) => l.metric === m)!;
  const duration = line("duration");
  for (const c of per) {
    const awakeShare = (c.u.activeMs / windowMs) * 100;
    if (c.u.wsMessages > 0 && c.quantities.duration > 0) {
      const classUsd = duration.measured > 0 ? (duration.usd * c.quantities.duration) / duration.measured : 0;
      notes.push({
        weight: classUsd + 0.001,
        text:
          `${c.className} objects were in memory ${pct(Math.min(100, awakeShare))} of the window (summed over objects) while holding WebSockets: ` +
          `duration is ${usd(classUsd)} a month of this. Sockets accepted with ctx.acceptWebSocket() (hibernatable) ` +
          `let an object hibernate between messages, so it is billed only while it handles one; ws.accept() keeps it in memory while the socket is open.`,
      });
    }
    if (c.u.wsMessages > 0) {
      notes.push({
        weight: 0.0005,
        text: `${c.className}'s ${c.u.wsMessages.toLocaleString("en-US")} incoming WebSocket messages bill as ${Math.ceil(c.u.wsMessages / p.wsMessagesPerRequest).toLocaleString("en-US")} requests (20 to 1); sent as HTTP requests they would bill as ${c.u.wsMessages.toLocaleString("en-US")}.`,
      });
    }
  }
  const rowsWritten = line("rowsWritten");
  if (rowsWritten.usd > 0)
    notes.push({
      weight: rowsWritten.usd,
      text: `Rows written are ${usd(rowsWritten.usd)} a month: every row a statement changes counts (each index on a table adds its writes on Cloudflare); fewer, larger updates or fewer indexes cut it.`,
    });
  for (const l of lines) {
    if (l.metric === "storage" || l.included === 0) continue;
    if (l.usd === 0 && l.monthly > 0) {
      const times = l.included / l.monthly;
      notes.push({
        weight: 0,
        text: `${l.metric === "duration" ? "Duration" : l.metric === "requests" ? "Requests" : l.metric === "rowsRead" ? "Rows read" : "Rows written"} stay within the ${l.included.toLocaleString("en-US")} ${l.unit} included a month: at about ${times >= 100 ? Math.round(times).toLocaleString("en-US") : times.toFixed(1)} times this traffic they start to cost.`,
      });
    }
  }
  if (lines.every((l) => l.usd === 0))
    notes.push({
      weight: -1,
      text: `At this rate the usage fits in the plan's free allowance: the bill is the ${usd(p.baseMonthlyUsd)} Workers Paid subscription.`,
    });
  return notes.sort((a, b) => b.weight - a.weight).map((n) => n.text);
}

/** A few lines for a terminal: the month's total and its largest lines. */
export function costText(e: CostEstimate): string {
  const lines = e.lines
    .filter((l) => l.monthly > 0)
    .map(
      (l) =>
        `  ${l.metric.padEnd(12)} ${Math.round(l.monthly).toLocaleString("en-US").padStart(16)} ${l.unit.padEnd(9)} ${usd(l.usd).padStart(10)}`,
    );
  return [
    `cost on Cloudflare at this rate: ${usd(e.totalUsd)} a month + the ${usd(e.prices.baseMonthlyUsd)} ${e.prices.plan} plan (prices of ${e.prices.asOf})`,
    ...lines,
  ].join("\n");
}
