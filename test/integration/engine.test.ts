import { describe, expect, it } from "vitest";
import { FakeClock } from "../../runtime/shared/clock.ts";
import { enginesPerTest, request, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const engines = enginesPerTest();

describe("engine", () => {
  it("serializes read-modify-write under 100 concurrent requests (input gate)", async () => {
    const { engine } = await engines.open("kitchen");
    const results = await Promise.all(
      Array.from({ length: 100 }, () => request(engine, "POST", "/count/gate/slow-incr")),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const values = results.map((r) => (r.json as { value: number }).value).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect((await request(engine, "GET", "/read/gate")).json).toEqual({ stored: 100, memory: 0 });
  });

  it("carries RPC errors with their name and class", async () => {
    const { engine } = await engines.open("kitchen");
    const t = await request(engine, "GET", "/boom/type");
    expect(t.json).toEqual({ error: { name: "TypeError", message: "bad type", isTypeError: true } });
    const c = await request(engine, "GET", "/boom/custom");
    // As workerd: a custom error class arrives as an Error named in its message.
    expect(c.json).toEqual({
      error: { name: "Error", message: "QuotaError: custom failure", isTypeError: false },
    });
  });

  it("passes SQLite's error message to the caller", async () => {
    const { engine } = await engines.open("kitchen");
    const r = await request(engine, "GET", "/sql?q=" + encodeURIComponent("SELECT * FROM nope"));
    expect(r.status).toBe(500);
    expect((r.json as { error: { message: string } }).error.message).toContain("no such table: nope");
  });

  it("refuses an id from another namespace", async () => {
    const { engine } = await engines.open("kitchen");
    const r = await request(engine, "GET", "/foreign");
    expect(r.status).toBe(500);
    expect((r.json as { error: { name: string } }).error.name).toBe("TypeError");
  });

  it("hides Node globals from object code", async () => {
    const { engine } = await engines.open("kitchen");
    expect((await request(engine, "GET", "/env")).json).toEqual({
      mode: "test",
      process: "undefined",
      buffer: "undefined",
      fetch: "function",
      crypto: "object",
    });
  });

  it("answers 500 when a constructor throws, keeps serving, and retries on the next request", async () => {
    const { engine } = await engines.open("kitchen");
    const bad = await request(engine, "GET", "/fragile/bad-one");
    expect(bad.status).toBe(500);
    expect(bad.body).toContain("cannot start bad-one");
    expect((await request(engine, "GET", "/fragile/good")).body).toBe("pong");
    const again = await request(engine, "GET", "/fragile/bad-one");
    expect(again.body).toContain("cannot start bad-one");
  });

  it("walks the lifecycle to Hibernating on a fake clock and wakes with storage intact", async () => {
    const clock = new FakeClock();
    const { engine } = await engines.open("kitchen", {
      clock,
      lifecycle: { policy: { idleAfterMs: 1000, hibernateAfterMs: 5000 } },
    });
    const first = await request(engine, "POST", "/count/sleepy");
    expect(first.json).toMatchObject({ value: 1, memory: 1, name: "sleepy" });
    const id = (first.json as { id: string }).id;
    await clock.advance(1_100);
    expect((await controlApi(engine).getObject(id))?.state).toBe("Idle");
    await clock.advance(5_100);
    await until(
      async () => (await controlApi(engine).getObject(id))?.state === "Hibernating",
      "the object to hibernate",
    );
    const second = await request(engine, "POST", "/count/sleepy");
    // storage survived, in-memory fields were reset
    expect(second.json).toMatchObject({ value: 2, memory: 1 });
    // A Processing span ends once nothing has been in flight for a moment.
    await clock.advance(100);
    const states = (await controlApi(engine).transitions({ objectId: id })).map((t) => t.to);
    expect(states).toEqual([
      "Created",
      "Initializing",
      "Active",
      "Processing",
      "Active",
      "Idle",
      "Hibernating",
      "Initializing",
      "Active",
      "Processing",
      "Active",
    ]);
  });

  it("keeps storage and the registry across a restart", async () => {
    const t = await engines.open("kitchen");
    await request(t.engine, "POST", "/count/durable");
    const r = await request(t.engine, "POST", "/count/durable");
    const id = (r.json as { id: string }).id;
    const engine = await t.reopen();
    const obj = await controlApi(engine).getObject(id);
    expect(obj).toMatchObject({ name: "durable", className: "KvCounter", state: "Hibernating" });
    expect((await request(engine, "GET", "/read/durable")).json).toEqual({ stored: 2, memory: 0 });
  });

  it("routes declared in terrarium.json reach the object directly", async () => {
    const { engine } = await engines.open("kitchen");
    const r = await request(engine, "POST", "/direct/routed");
    expect(r.json).toMatchObject({ value: 1, name: "routed" });
  });

  it("delivers bus events in order, persisted, to a subscriber it wakes", async () => {
    const { engine } = await engines.open("kitchen");
    for (let i = 0; i < 5; i++) await request(engine, "POST", "/count/busy");
    await until(
      async () => ((await request(engine, "GET", "/audit/busy")).json as unknown[]).length === 5,
      "the five audit entries",
    );
    const seen = (await request(engine, "GET", "/audit/busy")).json as { value: number; topic: string }[];
    expect(seen.map((s) => s.value)).toEqual([1, 2, 3, 4, 5]);
    expect(seen.every((s) => s.topic === "count.changed")).toBe(true);
    const topics = await controlApi(engine).topics();
    expect(topics.find((t) => t.topic === "count.changed")?.published).toBe(5);
  });

  it("lets the inspector read an object's SQL and KV without touching it", async () => {
    const { engine } = await engines.open("kitchen");
    const r = await request(engine, "POST", "/count/inspect");
    const id = (r.json as { id: string }).id;
    const kv = await controlApi(engine).listKv({ objectId: id });
    expect(kv).toEqual([{ key: "n", preview: "1", bytes: expect.any(Number) }]);
    const q = await controlApi(engine).query({ objectId: id, sql: "SELECT key FROM _cf_KV" });
    expect(q.rows).toEqual([["n"]]);
    await expect(controlApi(engine).query({ objectId: id, sql: "DELETE FROM _cf_KV" })).rejects.toThrow(
      /unlock writes/,
    );
  });

  it("terminates an object: storage gone, the next request starts afresh", async () => {
    const { engine } = await engines.open("kitchen");
    await request(engine, "POST", "/count/doomed");
    const r = await request(engine, "POST", "/count/doomed");
    const id = (r.json as { id: string }).id;
    expect(await controlApi(engine).terminate(id)).toBe(true);
    expect(await controlApi(engine).getObject(id)).toBeNull();
    expect((await request(engine, "POST", "/count/doomed")).json).toMatchObject({ value: 1 });
  });

  it("ends a spinning object with a 5xx and keeps serving others", async () => {
    const { engine } = await engines.open("kitchen", { lifecycle: { cpuLimitMs: 300 } });
    const spin = await request(engine, "GET", "/spin/1");
    expect(spin.status).toBe(500);
    expect(spin.body).toMatch(/CPU time limit/);
    expect((await request(engine, "POST", "/count/alive")).status).toBe(200);
  });
});
