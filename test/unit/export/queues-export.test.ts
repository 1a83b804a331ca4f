import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseJsonc } from "jsonc-parser";
import { planExport } from "../../../runtime/export/exporter.ts";

const FIXTURE = resolve(import.meta.dirname, "..", "..", "fixtures", "queues");

describe("export of a project with Queues", () => {
  it("keeps the queues block as configured and says which queues to create", async () => {
    const plan = await planExport(FIXTURE);
    const file = (p: string): string => String(plan.files.find((f) => f.path === p)?.contents);
    const exported = parseJsonc(file("wrangler.jsonc")) as { queues?: unknown };
    const own = parseJsonc(readFileSync(resolve(FIXTURE, "wrangler.jsonc"), "utf8")) as { queues: unknown };
    expect(exported.queues).toEqual(own.queues);
    expect(file("README.md")).toContain("npx wrangler queues create jobs\n");
    expect(file("README.md")).toContain("npx wrangler queues create jobs-dlq\n");
    // The consumer is the project's own code, exported as it is.
    expect(file("src/index.ts")).toBe(readFileSync(resolve(FIXTURE, "src", "index.ts"), "utf8"));
  });
});
