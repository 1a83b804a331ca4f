import { describe, expect, it } from "vitest";
import { FakeClock } from "../../runtime/shared/clock.ts";
import { enginesPerTest, request, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const engines = enginesPerTest();

describe("rate limiting, Analytics Engine and version metadata", () => {
  it("shares a limiter's counters between the entry and an object, lists data points, and gives both one version", async () => {
    // The limiter's window comes from the engine's clock: a fake one never crosses a minute mid-test.
    const { engine } = await engines.open("small-bindings", { clock: new FakeClock() });
    const entry1 = (await request(engine, "GET", "/entry?key=ada")).json as {
      success: boolean;
      version: string;
    };
    const room = (await request(engine, "GET", "/room?key=ada")).json as {
      success: boolean;
      version: string;
    };
    const entry2 = (await request(engine, "GET", "/entry?key=ada")).json as { success: boolean };
    const other = (await request(engine, "GET", "/entry?key=bo")).json as { success: boolean };
    // Limit 2 a minute for each key, counted across the entry Worker and the object.
    expect([entry1.success, room.success, entry2.success, other.success]).toEqual([true, true, false, true]);
    expect(entry1.version).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(room.version).toBe(entry1.version);

    // Each worker reports its points on its own line: all four arrive, in no set order between workers.
    await until(async () => (await controlApi(engine).dataPoints()).length === 4, "the four data points");
    const points = await controlApi(engine).dataPoints({ binding: "EVENTS" });
    const rows = points.map((p) => JSON.stringify([p.dataset, p.blobs, p.doubles, p.indexes])).sort();
    expect(rows.map((r) => JSON.parse(r) as unknown)).toEqual([
      ["page_views", ["entry", "ada"], [1, 0.5], ["ada"]],
      ["page_views", ["entry", "ada"], [1, 0.5], ["ada"]],
      ["page_views", ["entry", "bo"], [1, 0.5], ["bo"]],
      ["page_views", ["room", "ada"], [2], ["ada"]],
    ]);
    expect(await controlApi(engine).dataPoints({ limit: 1 })).toHaveLength(1);
  });
});
