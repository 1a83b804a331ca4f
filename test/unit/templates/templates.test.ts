import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { OBJECT_KINDS } from "../../../runtime/shared/object-kinds.ts";
import { listTemplates } from "../../../runtime/templates/templates.ts";

const SAMPLE_SRC = resolve(import.meta.dirname, "..", "..", "..", "resources", "samples", "aidevos", "src");

describe("object templates", () => {
  const templates = listTemplates();

  it("cover each of the eight kinds once", () => {
    expect(templates.map((t) => t.kind).sort()).toEqual([...OBJECT_KINDS].sort());
  });

  it.each(templates.map((t) => [t.id, t] as const))(
    "%s exports its class and is self-contained",
    (_id, t) => {
      expect(t.source).toMatch(new RegExp(`^export class ${t.className} extends DurableObject\\b`, "m"));
      const imports = [...t.source.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
      expect(imports).toEqual(["cloudflare:workers"]);
    },
  );

  it.each(templates.map((t) => [t.id, t] as const))("%s is the AIDevOS sample's class itself", (_id, t) => {
    expect(t.source).toBe(readFileSync(join(SAMPLE_SRC, t.file), "utf8"));
  });
});
