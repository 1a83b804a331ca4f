/**
 * Cloudflare's published prices for Durable Objects on the Workers Paid
 * plan, with the monthly usage included at no charge. The one place they
 * live: the cost estimate (runtime/load/cost.ts) and the UI read them here.
 *
 * Source: https://developers.cloudflare.com/durable-objects/platform/pricing/
 * (Compute billing and SQLite storage billing), as published on 2026-12-06.
 * A change in Cloudflare's prices is a change to this table and its date.
 */
export const CLOUDFLARE_PRICES = {
  source: "https://developers.cloudflare.com/durable-objects/platform/pricing/",
  asOf: "2026-12-06",
  plan: "Workers Paid",
  /** The plan's monthly subscription, charged whatever the usage. */
  baseMonthlyUsd: 5,
  /** Memory an active object is billed for, whatever it uses. */
  billedMemoryGb: 0.128,
  /** Incoming WebSocket messages per billed request. */
  wsMessagesPerRequest: 20,
  requests: { usdPerMillion: 0.15, includedPerMonth: 1_000_000 },
  durationGbS: { usdPerMillion: 12.5, includedPerMonth: 400_000 },
  rowsRead: { usdPerMillion: 0.001, includedPerMonth: 25_000_000_000 },
  rowsWritten: { usdPerMillion: 1.0, includedPerMonth: 50_000_000 },
  storageGbMonth: { usdPerUnit: 0.2, includedPerMonth: 5 },
} as const;

export type CloudflarePrices = typeof CLOUDFLARE_PRICES;
