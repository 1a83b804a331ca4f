import { describe, expect, it } from "vitest";
import { instanceFields, previewValue } from "../../../runtime/host/probe.ts";

describe("an object's fields as the probe previews them", () => {
  it("previews values briefly and stably", () => {
    expect(previewValue(3)).toBe("3");
    expect(previewValue("a")).toBe('"a"');
    expect(previewValue(10n)).toBe("10n");
    expect(previewValue(new Map([["k", 1]]))).toBe('Map(1) [["k",1]]');
    expect(previewValue(new Set([1, 2]))).toBe("Set(2) [1,2]");
    expect(previewValue([1, 2])).toBe("Array(2) [1,2]");
    expect(previewValue({ a: 1 })).toBe('{"a":1}');
    expect(previewValue(new Date(0))).toBe('Date "1970-01-01T00:00:00.000Z"');
    expect(previewValue(function named() {})).toBe("function named");
    expect(previewValue("x".repeat(500))).toHaveLength(120);
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(previewValue(cyclic)).toBe("[not serializable]");
  });

  it("lists the instance's own fields but ctx and env", () => {
    class Obj {
      ctx = {};
      env = {};
      count = 2;
      #hidden = 1;
      get hidden(): number {
        return this.#hidden;
      }
    }
    expect(instanceFields(new Obj())).toEqual({ count: "2" });
  });
});
