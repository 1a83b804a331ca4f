import { describe, expect, it } from "vitest";
import { cutShortLine } from "../../runtime/engine.ts";

const object = (className: string, name: string | null, events: number) => ({
  className,
  id: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  name,
  events,
});

describe("the line a stop prints", () => {
  it("says nothing when nothing was cut short", () => {
    expect(cutShortLine({ graceMs: 5_000, requests: 0, objects: [] })).toBeNull();
  });

  it("names requests and objects, by name or the start of their id, with their events", () => {
    expect(
      cutShortLine({
        graceMs: 1_500,
        requests: 2,
        objects: [object("Store", "a", 1), object("Gate", null, 3)],
      }),
    ).toBe(
      'terrarium: stopped after the 1500 ms grace period, cutting short 2 requests and 2 objects: Store "a" (1 event), Gate 9f86d081 (3 events)',
    );
  });

  it("says what there was when only one kind was cut short", () => {
    expect(cutShortLine({ graceMs: 5_000, requests: 1, objects: [] })).toBe(
      "terrarium: stopped after the 5000 ms grace period, cutting short 1 request",
    );
    expect(cutShortLine({ graceMs: 5_000, requests: 0, objects: [object("Alarmed", "x", 1)] })).toBe(
      'terrarium: stopped after the 5000 ms grace period, cutting short 1 object: Alarmed "x" (1 event)',
    );
  });
});
