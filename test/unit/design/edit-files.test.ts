import { describe, expect, it } from "vitest";
import { editJsonc } from "../../../runtime/design/edit-files.ts";

describe("editing a project's JSON files as a person would", () => {
  it("appends to an array of one-line entries with a one-line entry, leaving the others as written", () => {
    const text = `{
  // bindings
  "durable_objects": {
    "bindings": [
      { "name": "A", "class_name": "A" },
      { "name": "B", "class_name": "B" },
    ],
  },
}
`;
    const out = editJsonc(text, ["durable_objects", "bindings", -1], { name: "C", class_name: "C" }, true);
    expect(out).toBe(text.replace(`"B" },\n`, `"B" },\n      { "name": "C", "class_name": "C" },\n`));
  });

  it("appends without a trailing comma where the file has none, and blocks after blocks", () => {
    const text = `{
  "routes": [
    { "pattern": "/a", "binding": "A", "object": "main" },
    {
      "pattern": "/b",
      "binding": "B",
      "object": "{name}"
    }
  ]
}
`;
    const out = editJsonc(text, ["routes", -1], { pattern: "/c", binding: "C", object: "x" }, true);
    expect(out).toBe(
      text.replace(
        `"object": "{name}"\n    }\n`,
        `"object": "{name}"\n    },\n    {\n      "pattern": "/c",\n      "binding": "C",\n      "object": "x"\n    }\n`,
      ),
    );
  });

  it("adds a key to an object in the style of the key before it, and keeps arrays on one line", () => {
    const text = `{
  "classes": {
    "A": { "kind": "Custom", "notes": "one line" }
  },
  "r2_buckets": [{ "binding": "FILES", "bucket_name": "f" }]
}
`;
    let out = editJsonc(text, ["classes", "B"], { kind: "Analytics" });
    out = editJsonc(out, ["r2_buckets", -1], { binding: "MORE", bucket_name: "m" }, true);
    expect(out).toBe(`{
  "classes": {
    "A": { "kind": "Custom", "notes": "one line" },
    "B": { "kind": "Analytics" }
  },
  "r2_buckets": [{ "binding": "FILES", "bucket_name": "f" }, { "binding": "MORE", "bucket_name": "m" }]
}
`);
  });

  it("leaves to jsonc-parser what is not an append: a new container, a changed value", () => {
    expect(editJsonc(`{ "a": 1 }`, ["a"], 2)).toBe(`{ "a": 2 }`);
    expect(JSON.parse(editJsonc(`{}`, ["routes"], [{ pattern: "/x" }]))).toEqual({
      routes: [{ pattern: "/x" }],
    });
  });
});
