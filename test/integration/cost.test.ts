import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { enginesPerTest, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

// The cost of a run through the real engine: usage counted from real
// requests, WebSocket messages, lifecycle transitions and SQL statements.

const engines = enginesPerTest();

describe("the cost of a run", () => {
  it("counts a load run's requests, rows and duration per class and prices them; the project's total survives a restart", async () => {
    const t = await engines.open("awake");
    const engine = t.engine;
    const port = await engine.listen(0);

    const { id } = await controlApi(engine).startLoad({
      config: { rate: 20, duration: "1s", keys: "uniform:3", requests: [{ path: "/n/k{key}/store" }] },
    });
    await until(
      async () => (await controlApi(engine).loadStatus()).active === null,
      "the run to end",
      60_000,
    );
    const run = (await controlApi(engine).getRun(id))!;
    const completed = run.summary.requests.completed;
    expect(completed).toBeGreaterThan(0);
    expect(run.usage!.byClass["Napper"]).toMatchObject({ requests: completed, wsMessages: 0 });
    expect(run.usage!.byClass["Napper"]!.activeMs).toBeGreaterThan(0);

    const cost = await controlApi(engine).costEstimate({ runId: id });
    expect(cost).toMatchObject({ scope: "run", runId: id, since: run.startedAt });
    expect(cost.byClass.map((c) => c.className)).toEqual(["Napper"]);
    const requests = cost.lines.find((l) => l.metric === "requests")!;
    expect(requests.measured).toBe(completed);
    expect(requests.monthly).toBeCloseTo((completed * 30 * 24 * 3600 * 1000) / cost.windowMs, 3);
    expect(cost.totalUsd).toBeGreaterThan(0);

    // Rows as the cursors count them (as workerd does): each object's first
    // start creates its table (3 schema rows: the table and its primary key's
    // index) and its first store inserts the row and its index entry (2);
    // every later store updates the row (1). Each store reads at least the
    // row it updates and the row RETURNING gives back.
    const napping = (await controlApi(engine).listObjects({ className: "Napper" })).total;
    await until(async () => {
      const usage = (await controlApi(engine).costEstimate()).byClass[0]?.usage;
      return usage?.rowsWritten === completed + 4 * napping && (usage?.rowsRead ?? 0) >= 2 * completed;
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
    const objectId = (await controlApi(engine).listObjects({ search: "k0" })).objects[0]!.id;
    await until(
      async () =>
        (await controlApi(engine).objectSockets(objectId)).length === 0 &&
        (await controlApi(engine).getObject(objectId))!.inFlight === 0,
      "the socket's close to be delivered",
    );
    const project = await controlApi(engine).costEstimate();
    const napper = project.byClass[0]!;
    expect(napper.usage.wsMessages).toBe(5);
    expect(napper.billedRequests).toBeCloseTo(napper.usage.requests - 5 + 5 / 20, 9);
    expect(project.notes.some((n) => n.includes("5 incoming WebSocket messages bill as 1 requests"))).toBe(
      true,
    );
    await expect(controlApi(engine).costEstimate({ runId: "nope" })).rejects.toThrow(/run id/);

    const before = napper.usage;
    const again = await t.reopen();
    const after = (await controlApi(again).costEstimate()).byClass[0]!.usage;
    // Every event the registry counted (a socket's close may have come after `before`), the meter counted too.
    const { objects } = await controlApi(again).listObjects();
    expect(after.requests).toBe(objects.reduce((n, o) => n + o.requests, 0));
    expect(after).toMatchObject({ wsMessages: 5, rowsWritten: before.rowsWritten });
    expect(after.activeMs).toBeGreaterThanOrEqual(before.activeMs);
  });
});
