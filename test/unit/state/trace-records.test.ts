import { describe, expect, it } from "vitest";
import { spanOf, stored, type SpanRecord } from "../../../runtime/state/trace-records.ts";

const span: SpanRecord = {
  traceId: "t1",
  spanId: "s2",
  parentId: "s1",
  kind: "rpc",
  name: "rpc add()",
  start: 1_700_000_000_123.25,
  durationMs: 0.5,
  className: "Counter",
  objectId: "ab".repeat(32),
  objectName: "main",
  state: "Hibernating",
  status: null,
  error: "Error: boom",
};

describe("a span as stored", () => {
  it("is an array of its fields in the order traces.sqlite holds them (without the trace id)", () => {
    // Rows written before keep this order: reading them must not change.
    expect(stored(span)).toEqual([
      "s2",
      "s1",
      "rpc",
      "rpc add()",
      1_700_000_000_123.25,
      0.5,
      "Counter",
      "ab".repeat(32),
      "main",
      "Hibernating",
      null,
      "Error: boom",
    ]);
  });

  it("reads back as the span it was, given its trace id", () => {
    const back = spanOf("t1", JSON.parse(JSON.stringify(stored(span))) as ReturnType<typeof stored>);
    expect(back).toEqual(span);
    expect(Object.keys(back).sort()).toEqual(Object.keys(span).sort());
  });
});
