import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { enginesPerTest, until } from "../helpers/project.ts";

// The cost of a run through the real engine: usage counted from real
// requests, WebSocket messages, lifecycle transitions and SQL statements.

const engines = enginesPerTest();

describe("the cost of a run", () => {
  it("counts a load run's requests, rows and duration per class and prices them; the project's total survives a restart", async () => {
    const t = await engines.open("awake");
    const engine = t.engine;
    const port = await engine.listen(0);

    const { id } = await engine.api.startLoad({
      config: { rate: 20, duration: "1s", keys: "uniform:3", requests: [{ path: "/n/k{key}/store" }] },
    });
    await until(async () => (await engine.api.loadStatus()).active === null, "the run to end", 60_000);
    const run = (await engine.api.getRun(id))!;
    const completed = run.summary.requests.completed;
    expect(completed).toBeGreaterThan(0);
    expect(run.usage!.byClass["Napper"]).toMatchObject({ requests: completed, wsMessages: 0 });
    expect(run.usage!.byClass["Napper"]!.activeMs).toBeGreaterThan(0);

    const cost = await engine.api.costEstimate({ runId: id });
    expect(cost).toMatchObject({ scope: "run", runId: id, since: run.startedAt });
    expect(cost.byClass.map((c) => c.className)).toEqual(["Napper"]);
    const requests = cost.lines.find((l) => l.metric === "requests")!;
    expect(requests.measured).toBe(completed);
    expect(requests.monthly).toBeCloseTo((completed * 30 * 24 * 3600 * 1000) / cost.windowMs, 3);
    expect(cost.totalUsd).toBeGreaterThan(0);

    // Each store writes one row and returns it: counted as the cursor counts them.
    await until(async () => {
      const all = await engine.api.costEstimate();
      return all.byClass[0]?.usage.rowsWritten === completed && all.byClass[0]?.usage.rowsRead === completed;
    }, "every statement's rows to be counted");

    // WebSocket messages count as requests, and bill 20 to 1.
    const ws = await new Promise<WebSocket>((ok, fail) => {
      const s = new WebSocket(`ws://127.0.0.1:${port}/n/k0/hws?user=a`);
      s.once("open", () => ok(s));
      s.once("error", fail);
    });
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((ok) => {
        ws.once("message", () => ok());
        ws.send(`m${i}`);
      });
    }
    ws.close();
    const objectId = (await engine.api.listObjects({ search: "k0" })).objects[0]!.id;
    await until(
      async () =>
        (await engine.api.objectSockets(objectId)).length === 0 &&
        (await engine.api.getObject(objectId))!.inFlight === 0,
      "the socket's close to be delivered",
    );
    const project = await engine.api.costEstimate();
    const napper = project.byClass[0]!;
    expect(napper.usage.wsMessages).toBe(5);
    expect(napper.billedRequests).toBeCloseTo(napper.usage.requests - 5 + 5 / 20, 9);
    expect(project.notes.some((n) => n.includes("5 incoming WebSocket messages bill as 1 requests"))).toBe(
      true,
    );
    await expect(engine.api.costEstimate({ runId: "nope" })).rejects.toThrow(/run id/);

    const before = napper.usage;
    const again = await t.reopen();
    const after = (await again.api.costEstimate()).byClass[0]!.usage;
    // Every event the registry counted (a socket's close may have come after `before`), the meter counted too.
    const { objects } = await again.api.listObjects();
    expect(after.requests).toBe(objects.reduce((n, o) => n + o.requests, 0));
    expect(after).toMatchObject({ wsMessages: 5, rowsWritten: before.rowsWritten });
    expect(after.activeMs).toBeGreaterThanOrEqual(before.activeMs);
  });
});
