import { describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/engine.ts";
import type { SpanRecord, TraceDetail } from "../../runtime/state/traces.ts";
import { enginesPerTest, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";
import { run } from "../helpers/cli.ts";

// Traces across objects through the real engine: real workers, the real
// router, the Event Bus and a mock endpoint, spans kept in traces.sqlite.

const engines = enginesPerTest();
const POLICY = { idleAfterMs: 60_000, hibernateAfterMs: 60_000 };

async function open(
  opts: { sample?: number; enabled?: boolean } = {},
): Promise<{ engine: Engine; url: string }> {
  const { engine } = await engines.open("traces", { lifecycle: { policy: POLICY }, traces: opts });
  const port = await engine.listen(0);
  return { engine, url: `http://127.0.0.1:${port}` };
}

/** The one trace whose path is `path`, once it holds a span that `done` accepts. */
async function traceOf(
  engine: Engine,
  path: string,
  done: (t: TraceDetail) => boolean,
): Promise<TraceDetail> {
  let found: TraceDetail | null = null;
  await until(() => {
    const list = engine.traces.list({ path });
    const summary = list.find((t) => t.path === path);
    found = summary ? engine.traces.get(summary.traceId) : null;
    return found !== null && done(found);
  }, `the trace of ${path}`);
  return found!;
}

function only(spans: SpanRecord[], pred: (s: SpanRecord) => boolean, what: string): SpanRecord {
  const hits = spans.filter(pred);
  if (hits.length !== 1)
    throw new Error(`expected one ${what}, found ${hits.length}: ${JSON.stringify(spans, null, 1)}`);
  return hits[0]!;
}

describe("traces across objects", () => {
  it("one request gives one trace: entry, object, RPC to a second object, bus delivery, mock fetch, logs", async () => {
    const { engine, url } = await open();
    const res = await fetch(`${url}/order/o1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: "o1", left: 99, paid: 201 });

    const trace = await traceOf(engine, "/order/o1", (t) => t.spans.some((s) => s.kind === "event"));
    const { spans } = trace;
    expect(trace.status).toBe(200);
    expect(trace.method).toBe("GET");

    const root = only(spans, (s) => s.parentId === null, "root");
    expect(root).toMatchObject({ kind: "request", name: "GET /order/o1", status: 200 });
    const entry = only(spans, (s) => s.kind === "entry", "entry span");
    expect(entry.parentId).toBe(root.spanId);
    const orders = only(spans, (s) => s.className === "Orders" && s.kind === "fetch", "Orders span");
    expect(orders).toMatchObject({ kind: "fetch", parentId: entry.spanId, objectName: "o1", status: 200 });
    // The object did not exist before the request: the request created it.
    expect(orders.state).toBe("Created");
    const stock = only(spans, (s) => s.className === "Stock", "Stock span");
    expect(stock).toMatchObject({
      kind: "rpc",
      name: "rpc reserve()",
      parentId: orders.spanId,
      objectName: "main",
    });
    const publish = only(spans, (s) => s.kind === "publish", "publish span");
    expect(publish).toMatchObject({ name: "publish order.placed", parentId: orders.spanId });
    const delivery = only(spans, (s) => s.kind === "event", "delivery span");
    expect(delivery).toMatchObject({ className: "Mailer", objectName: "mailer", parentId: publish.spanId });
    const outbound = only(spans, (s) => s.kind === "outbound", "outbound span");
    expect(outbound).toMatchObject({
      name: "POST https://pay.example/charge",
      status: 201,
      parentId: orders.spanId,
    });
    // Every span belongs to the same trace.
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([trace.traceId]));
    expect(trace.classes).toEqual(["Orders", "Stock", "Mailer"]);

    // Logs under their spans, the mailer's too (it ran after the answer).
    await until(
      () => (engine.traces.get(trace.traceId)?.logs.length ?? 0) >= 4,
      "the four log lines of the trace",
    );
    const logs = engine.traces.get(trace.traceId)!.logs;
    const under = (text: string): string | undefined => logs.find((l) => l.message.includes(text))?.spanId;
    expect(under("placing order o1")).toBe(orders.spanId);
    expect(under("reserved stock for o1")).toBe(stock.spanId);
    expect(under("mailing about order o1")).toBe(delivery.spanId);
    expect(under("mock POST https://pay.example/charge")).toBe(orders.spanId);
  });

  it("calls on direct lines between workers are spans too, with their logs", async () => {
    const { engine, url } = await open();
    // After two calls to the same object, the Orders worker calls Stock on a direct line.
    let n = 0;
    await until(async () => {
      expect((await fetch(`${url}/order/same/${n++}`)).status).toBe(200);
      return engine.lifecycle.directCalls > 0;
    }, "a call on a direct line");
    const before = engine.lifecycle.directCalls;
    expect((await fetch(`${url}/order/same/last`)).status).toBe(200);
    await until(() => engine.lifecycle.directCalls > before, "the last call on the direct line");
    // Calls on direct lines are reported a little after they end: wait for both objects' spans.
    const trace = await traceOf(
      engine,
      "/order/same/last",
      (t) =>
        t.spans.some((s) => s.className === "Stock") &&
        t.spans.some((s) => s.className === "Orders" && s.kind === "fetch"),
    );
    const orders = only(trace.spans, (s) => s.className === "Orders" && s.kind === "fetch", "Orders span");
    const stock = only(trace.spans, (s) => s.className === "Stock", "Stock span");
    expect(stock.parentId).toBe(orders.spanId);
    expect(["Active", "Processing", "Idle"]).toContain(stock.state);
    await until(
      () => engine.traces.get(trace.traceId)!.logs.some((l) => l.message === "reserved stock for same"),
      "the Stock log line of the last request",
    );
    const log = engine.traces.get(trace.traceId)!.logs.find((l) => l.message === "reserved stock for same")!;
    expect(log.spanId).toBe(stock.spanId);
  });

  it("a routed request, an error, and an alarm as a trace of its own", async () => {
    const { engine, url } = await open();
    expect((await fetch(`${url}/stock/side`)).status).toBe(202);
    const routed = await traceOf(engine, "/stock/side", () => true);
    expect(routed.spans.map((s) => s.kind).sort()).toEqual(["fetch", "request"]);
    expect(routed.spans.find((s) => s.kind === "fetch")).toMatchObject({ className: "Stock", status: 202 });

    expect((await fetch(`${url}/explode/x`)).status).toBe(500);
    const failed = await traceOf(engine, "/explode/x", () => true);
    expect(failed.status).toBe(500);
    expect(only(failed.spans, (s) => s.className === "Stock", "Stock span").error).toContain("out of stock");
    expect(engine.traces.list({ status: "5xx" }).map((t) => t.path)).toEqual(["/explode/x"]);
    expect(engine.traces.list({ status: "ok" }).map((t) => t.path)).toEqual(["/stock/side"]);
    expect(engine.traces.list({ object: "Stock" }).map((t) => t.path)).toEqual(["/explode/x", "/stock/side"]);
    expect(engine.traces.list({ object: "side" }).map((t) => t.path)).toEqual(["/stock/side"]);

    // The same through the control API, its arguments checked.
    const api = controlApi(engine);
    const info = await api.traces({ status: "5xx" });
    expect(info.traces.map((t) => t.path)).toEqual(["/explode/x"]);
    expect(info).toMatchObject({ sample: 1, max: 10_000 });
    expect((await api.trace(failed.traceId))?.spans).toHaveLength(failed.spans.length);
    await expect(api.traces({ status: "teapot" })).rejects.toThrow();
    await expect(api.trace("not-an-id")).rejects.toThrow();

    expect((await fetch(`${url}/alarm/al`)).status).toBe(200);
    await until(() => engine.traces.list().some((t) => t.kind === "alarm"), "the alarm's trace");
    const alarm = engine.traces.get(engine.traces.list().find((t) => t.kind === "alarm")!.traceId)!;
    expect(alarm.spans).toHaveLength(1);
    expect(alarm.spans[0]).toMatchObject({
      parentId: null,
      className: "Orders",
      objectName: "al",
      name: "alarm",
    });
    await until(() => (engine.traces.get(alarm.traceId)?.logs.length ?? 0) > 0, "the alarm's log line");
    expect(engine.traces.get(alarm.traceId)!.logs[0]!.message).toBe("alarm rang");
  });

  it("records nothing when tracing is off", async () => {
    const { engine, url } = await open({ enabled: false });
    expect((await fetch(`${url}/order/off`)).status).toBe(200);
    expect(engine.traces.count()).toBe(0);
  });
});

describe("terrarium traces", () => {
  it("lists, searches and shows the traces a run left in the data folder", async () => {
    const { engine, project } = await engines.open("traces", { lifecycle: { policy: POLICY } });
    const port = await engine.listen(0);
    expect((await fetch(`http://127.0.0.1:${port}/order/cli`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/explode/cli`)).status).toBe(500);
    const trace = await traceOf(engine, "/order/cli", (t) => t.logs.length >= 4);
    engine.traces.flush();

    const data = ["--data", project.dataDir];
    const list = await run(["traces", project.dir, ...data]);
    expect(list.code).toBe(0);
    expect(list.output).toContain("GET /order/cli");
    expect(list.output).toContain("GET /explode/cli");
    const failed = await run(["traces", project.dir, ...data, "--status", "5xx"]);
    expect(failed.output).toContain("GET /explode/cli");
    expect(failed.output).not.toContain("GET /order/cli");
    const byObject = await run(["traces", project.dir, ...data, "--object", "Mailer", "--json"]);
    expect((JSON.parse(byObject.output) as { path: string }[]).map((t) => t.path)).toEqual(["/order/cli"]);

    const shown = await run(["traces", project.dir, ...data, "--show", trace.traceId.slice(0, 12)]);
    expect(shown.code).toBe(0);
    // The tree: the Stock RPC under the Orders fetch, its log line under it.
    const lines = shown.output.split("\n");
    const orders = lines.findIndex((l) => l.includes("fetch GET /order/cli  Orders cli"));
    const stock = lines.findIndex((l) => l.includes("rpc rpc reserve()  Stock main"));
    expect(orders).toBeGreaterThan(0);
    expect(stock).toBeGreaterThan(orders);
    expect(lines[stock]!.indexOf("+")).toBeGreaterThan(lines[orders]!.indexOf("+"));
    expect(lines[stock + 1]).toContain("log   reserved stock for cli");
    const bad = await run(["traces", project.dir, ...data, "--status", "teapot"]);
    expect(bad.code).toBe(2);
  });
});
