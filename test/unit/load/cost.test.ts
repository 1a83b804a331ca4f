import { describe, expect, it } from "vitest";
import { costText, estimateCost } from "../../../runtime/load/cost.ts";
import { CLOUDFLARE_PRICES } from "../../../runtime/shared/cloudflare-prices.ts";

const HOUR = 3600 * 1000;
const MONTH_HOURS = 30 * 24;
const none = { requests: 0, wsMessages: 0, activeMs: 0, rowsRead: 0, rowsWritten: 0 };

describe("the cost of traffic on Cloudflare", () => {
  it("scales a window to a month, takes the free allowances off and prices each line", () => {
    // One hour of: 10,000 requests, one object awake the whole hour, 1M rows read, 100k rows written.
    const e = estimateCost({
      windowMs: HOUR,
      byClass: {
        Counter: { requests: 10_000, wsMessages: 0, activeMs: HOUR, rowsRead: 1e6, rowsWritten: 1e5 },
      },
      storageBytes: { Counter: 6e9 },
    });
    const line = (m: string) => e.lines.find((l) => l.metric === m)!;
    expect(line("requests").monthly).toBe(10_000 * MONTH_HOURS);
    expect(line("requests").usd).toBeCloseTo(((7_200_000 - 1_000_000) / 1e6) * 0.15, 9);
    // 3600 s at 128 MB = 460.8 GB-s an hour, 331,776 a month: within the 400,000 included.
    expect(line("duration").monthly).toBeCloseTo(3600 * 0.128 * MONTH_HOURS, 6);
    expect(line("duration").usd).toBe(0);
    expect(line("rowsRead").usd).toBe(0);
    expect(line("rowsWritten").usd).toBeCloseTo(((72_000_000 - 50_000_000) / 1e6) * 1.0, 9);
    // Storage is a level, not a rate: 6 GB held, 5 included.
    expect(line("storage").monthly).toBe(6);
    expect(line("storage").usd).toBeCloseTo(0.2, 9);
    expect(e.totalUsd).toBeCloseTo(0.93 + 22 + 0.2, 9);
    expect(e.byClass[0]!.totalUsd).toBeCloseTo(e.totalUsd, 9);
    expect(e.prices).toMatchObject({ source: CLOUDFLARE_PRICES.source, baseMonthlyUsd: 5 });
    expect(e.notes.some((n) => n.startsWith("Rows written are $22.00 a month"))).toBe(true);
    expect(e.notes).toContainEqual(
      expect.stringMatching(/^Duration stays? within the 400,000 GB-s included/),
    );
    expect(costText(e)).toMatch(
      /^cost on Cloudflare at this rate: \$23\.13 a month \+ the \$5\.00 Workers Paid plan/,
    );
  });

  it("bills WebSocket messages 20 to 1, splits lines between classes, and says when hibernatable sockets would help", () => {
    const e = estimateCost({
      windowMs: HOUR,
      byClass: {
        Room: { ...none, requests: 2_000_100, wsMessages: 2_000_000, activeMs: 100 * HOUR },
        Counter: { ...none, requests: 100_000, activeMs: 100 * HOUR },
      },
      storageBytes: {},
    });
    const room = e.byClass.find((c) => c.className === "Room")!;
    const counter = e.byClass.find((c) => c.className === "Counter")!;
    expect(room.billedRequests).toBe(100 + 100_000);
    expect(counter.billedRequests).toBe(100_000);
    expect(room.usd.requests).toBeCloseTo(counter.usd.requests * (100_100 / 100_000), 9);
    expect(room.usd.duration).toBeCloseTo(counter.usd.duration, 9);
    expect(room.totalUsd + counter.totalUsd).toBeCloseTo(e.totalUsd, 9);
    expect(e.notes[0]).toMatch(/^Room objects were in memory .* ctx\.acceptWebSocket\(\) \(hibernatable\)/);
    expect(e.notes).toContainEqual(
      expect.stringContaining("2,000,000 incoming WebSocket messages bill as 100,000 requests"),
    );
  });

  it("says when a small run fits in the free allowance", () => {
    const e = estimateCost({
      windowMs: HOUR,
      byClass: { Counter: { ...none, requests: 100, activeMs: 10_000, rowsWritten: 100 } },
      storageBytes: { Counter: 4096 },
    });
    expect(e.totalUsd).toBe(0);
    expect(e.notes.at(-1)).toBe(
      "At this rate the usage fits in the plan's free allowance: the bill is the $5.00 Workers Paid subscription.",
    );
  });
});
