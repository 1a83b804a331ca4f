import { describe, expect, it } from "vitest";
import { mockAnswer, type MockSpec } from "../../../runtime/bindings/mock-fetch.ts";

const quote: MockSpec = { url: "https://api.example.com/v1/", status: 200, body: { price: 42 } };

describe("mock third-party endpoints", () => {
  it("answers requests under the URL prefix with the canned body, as JSON", async () => {
    const a = await mockAnswer([quote], new Request("https://api.example.com/v1/quote?s=DO"));
    expect(a?.response.status).toBe(200);
    expect(a?.response.headers.get("content-type")).toBe("application/json");
    expect(await a?.response.json()).toEqual({ price: 42 });
    expect(a?.call).toMatchObject({ mock: quote.url, method: "GET", status: 200 });
  });

  it("lets other URLs and other methods through", async () => {
    expect(await mockAnswer([quote], new Request("https://api.example.com/v2/quote"))).toBeNull();
    const postOnly: MockSpec = { ...quote, method: "POST" };
    expect(await mockAnswer([postOnly], new Request(quote.url))).toBeNull();
    expect(
      await mockAnswer([postOnly], new Request(quote.url, { method: "POST", body: "x" })),
    ).not.toBeNull();
  });

  it("fails at its error rate, with its error status", async () => {
    const flaky: MockSpec = { ...quote, errorRate: 0.5, errorStatus: 502 };
    const low = await mockAnswer([flaky], new Request(quote.url), () => 0.1);
    const high = await mockAnswer([flaky], new Request(quote.url), () => 0.9);
    expect(low?.response.status).toBe(502);
    expect(await low?.response.text()).toBe("mock error");
    expect(low?.call).toMatchObject({ status: 502, injectedError: true });
    expect(high?.response.status).toBe(200);
    expect(high?.call).toMatchObject({ status: 200, injectedError: false });
  });

  it("waits its latency: fixed, or drawn from a range", async () => {
    const started = Date.now();
    const a = await mockAnswer([{ ...quote, latencyMs: [40, 60] }], new Request(quote.url), () => 0.5);
    expect(a?.call.latencyMs).toBe(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});
