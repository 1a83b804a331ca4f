import { describe, expect, it } from "vitest";
import { findIdentifier, renameIdentifier } from "../../../runtime/design/identifiers.ts";

describe("renameIdentifier", () => {
  it("renames declarations, exports, imports and type uses", () => {
    const src = [
      'import { DurableObject } from "cloudflare:workers";',
      'import { Counter } from "./counter";',
      "export class Counter extends DurableObject {}",
      "export { Counter };",
      "interface Env { COUNTER: DurableObjectNamespace<Counter> }",
      "const c: Counter | null = null;",
    ].join("\n");
    const { text, count } = renameIdentifier(src, "Counter", "Tally");
    expect(count).toBe(5);
    expect(text).toContain('import { Tally } from "./counter";');
    expect(text).toContain("export class Tally extends DurableObject {}");
    expect(text).toContain("DurableObjectNamespace<Tally>");
    expect(text).toContain("const c: Tally | null");
  });

  it("leaves strings, comments, template text, regexes, properties and longer names alone", () => {
    const src = [
      "// Counter counts",
      "/* a Counter */",
      "const a = \"Counter\", b = 'Counter';",
      "const t = `Counter ${Counter.name} and ${`nested Counter ${Counter}`} Counter`;",
      "const r = /Counter/g;",
      "const p = env.Counter ?? obj?.Counter;",
      "class CounterShard {}",
      "const x = a / Counter / 2;",
    ].join("\n");
    const uses = findIdentifier(src, "Counter");
    expect(uses.map((u) => `${u.line}:${u.column}`)).toEqual(["4:22", "4:60", "8:15"]);
    const { text } = renameIdentifier(src, "Counter", "Tally");
    expect(text).toContain("`Counter ${Tally.name} and ${`nested Counter ${Tally}`} Counter`");
    expect(text).toContain("/Counter/g");
    expect(text).toContain("class CounterShard");
    expect(text).toContain("a / Tally / 2");
  });

  it("keeps object braces and template braces apart", () => {
    const src = "const o = { a: { b: 1 } }; const s = `${ { k: Counter }.k }`; new Counter();";
    expect(renameIdentifier(src, "Counter", "C2").text).toBe(
      "const o = { a: { b: 1 } }; const s = `${ { k: C2 }.k }`; new C2();",
    );
  });
});
