import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { dispatch } from "../../runtime/api/dispatch.ts";
import type { Engine } from "../../runtime/engine.ts";
import { enginesPerTest, request, until, type TestEngine } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

// The control methods behind the console's saved requests and one object's
// page in the Inspector, against a real engine.

const engines = enginesPerTest();
const clients: WebSocket[] = [];
let current: TestEngine | null = null;

// Registered after enginesPerTest's, so it runs first: the clients end before the engine closes.
afterEach(() => {
  for (const c of clients.splice(0)) c.terminate();
  current = null;
});

async function start(fixture: string): Promise<Engine> {
  current = await engines.open(fixture);
  return current.engine;
}

async function idOf(e: Engine, className: string, name: string): Promise<string> {
  const { objects } = await controlApi(e).listObjects({ className, search: name });
  const found = objects.find((o) => o.name === name);
  if (!found) throw new Error(`no ${className} named ${name}`);
  return found.id;
}

async function hibernated(e: Engine, id: string): Promise<void> {
  await until(async () => {
    await controlApi(e).hibernate(id);
    return (await controlApi(e).getObject(id))?.state === "Hibernating";
  }, "the object to hibernate");
}

describe("saved requests", () => {
  it("saves, replaces by name, renames, deletes, and keeps them on disk", async () => {
    const e = await start("kitchen");
    const first = await controlApi(e).saveRequest({
      name: "  Count a ",
      request: { method: "POST", path: "/count/a", headers: [["x-test", "1"]], body: "{}" },
    });
    expect(first.name).toBe("Count a");
    await controlApi(e).saveRequest({ name: "Audit", request: { method: "GET", path: "/audit/a" } });
    // The same name (any case) replaces the request, keeping its id.
    const replaced = await controlApi(e).saveRequest({
      name: "count A",
      request: { method: "POST", path: "/count/b" },
    });
    expect(replaced.id).toBe(first.id);
    expect((await controlApi(e).savedRequests()).map((s) => [s.name, s.request.path])).toEqual([
      ["Audit", "/audit/a"],
      ["count A", "/count/b"],
    ]);

    const audit = (await controlApi(e).savedRequests())[0]!;
    await expect(controlApi(e).renameSavedRequest({ id: audit.id, name: "COUNT a" })).rejects.toThrow(
      /already saved/,
    );
    await controlApi(e).renameSavedRequest({ id: audit.id, name: "Read the audit log" });
    expect(await controlApi(e).deleteSavedRequest(replaced.id)).toBe(true);
    expect(await controlApi(e).deleteSavedRequest(replaced.id)).toBe(false);

    const engine = await current!.reopen();
    expect(await controlApi(engine).savedRequests()).toEqual([
      expect.objectContaining({
        id: audit.id,
        name: "Read the audit log",
        request: { method: "GET", path: "/audit/a" },
      }),
    ]);
  });

  it("refuses malformed calls at the bridge", async () => {
    const e = await start("kitchen");
    await expect(
      dispatch(controlApi(e), "saveRequest", [{ name: "   ", request: { method: "GET", path: "/" } }]),
    ).rejects.toThrow(/ValidationError|a name/);
    await expect(
      dispatch(controlApi(e), "saveRequest", [{ name: "x", request: { method: "GET", path: "no-slash" } }]),
    ).rejects.toMatchObject({ name: "ValidationError" });
    await expect(dispatch(controlApi(e), "deleteSavedRequest", ["../../etc"])).rejects.toMatchObject({
      name: "ValidationError",
    });
    await expect(
      dispatch(controlApi(e), "renameSavedRequest", [{ id: crypto.randomUUID(), name: "x", extra: 1 }]),
    ).rejects.toMatchObject({ name: "ValidationError" });
  });
});

describe("one object's page", () => {
  it("lists an object's sockets with tags, attachment size and counts, also while it hibernates", async () => {
    const e = await start("sockets");
    const port = await e.listen(0);
    const open = (user: string) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/room/r1?user=${user}`);
        clients.push(ws);
        ws.once("open", () => resolve(ws));
        ws.once("error", reject);
      });
    const alice = await open("alice");
    await open("bob");
    const id = await idOf(e, "Room", "r1");
    const echoed = new Promise((r) => alice.once("message", r));
    alice.send("hello");
    await echoed;
    // The broadcast's send to bob reaches the orchestrator's counts just after alice's echo.
    await until(
      async () => (await controlApi(e).objectSockets(id)).every((s) => s.sent === 1),
      "the broadcast to reach every socket",
    );

    const sockets = await controlApi(e).objectSockets(id);
    expect(sockets).toHaveLength(2);
    expect(sockets.map((s) => s.tags)).toEqual([
      ["alice", "all"],
      ["bob", "all"],
    ]);
    for (const s of sockets) {
      expect(s).toMatchObject({ objectId: id, hibernatable: true, accepted: true, open: true });
      expect(s.attachmentBytes).toBeGreaterThan(0);
      expect(s.openedAt).toBeGreaterThan(0);
    }
    expect(sockets[0]!.received).toBe(1);
    expect(sockets.map((s) => s.sent)).toEqual([1, 1]);

    await hibernated(e, id);
    expect((await controlApi(e).objectSockets(id)).map((s) => s.open)).toEqual([true, true]);
    expect(await controlApi(e).objectSockets(await idOf(e, "Room", "r1"))).toHaveLength(2);
  });

  it("shows the events an object published and those delivered to it", async () => {
    const e = await start("kitchen");
    await request(e, "POST", "/count/ev");
    await request(e, "POST", "/count/ev");
    await request(e, "POST", "/count/other");
    const counter = await idOf(e, "KvCounter", "ev");
    const published = (await controlApi(e).objectEvents({ objectId: counter })).published;
    expect(published.map((p) => [p.topic, (p.data as { value: number }).value])).toEqual([
      ["count.changed", 2],
      ["count.changed", 1],
    ]);
    expect(published[0]!.publisher).toMatchObject({ className: "KvCounter", id: counter, name: "ev" });

    await until(async () => {
      const { objects } = await controlApi(e).listObjects({ className: "Audit", search: "log-ev" });
      if (!objects[0]) return false;
      const r = await controlApi(e).objectEvents({ objectId: objects[0].id });
      return r.received.length === 2 && r.received.every((x) => x.status === "delivered");
    }, "the object's published and received events");
    const audit = await idOf(e, "Audit", "log-ev");
    const { received, published: none } = await controlApi(e).objectEvents({ objectId: audit, limit: 1 });
    expect(none).toEqual([]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      topic: "count.changed",
      binding: "AUDIT",
      method: "onEvent",
      status: "delivered",
      attempts: 1,
      lastError: null,
      publisher: { id: counter },
    });
    // Nothing of log-other's shows on log-ev's page.
    expect(received[0]!.data).toEqual({ name: "ev", value: 2 });
  });

  it("sends a request straight to an object's fetch, waking it", async () => {
    const e = await start("kitchen");
    await request(e, "POST", "/count/direct");
    const id = await idOf(e, "KvCounter", "direct");
    await hibernated(e, id);
    const res = await controlApi(e).objectRequest({ objectId: id, method: "POST", path: "/anything/else" });
    expect(res.status).toBe(200);
    expect(res.headers).toContainEqual(["content-type", "application/json"]);
    expect(JSON.parse(res.body)).toMatchObject({ value: 2, memory: 1, id, name: "direct" });
    expect((await controlApi(e).getObject(id))?.state).not.toBe("Hibernating");

    await expect(
      controlApi(e).objectRequest({
        objectId: id,
        method: "GET",
        path: "/",
        headers: [["Upgrade", "websocket"]],
      }),
    ).rejects.toThrow(/WebSocket tab/);
    await expect(
      dispatch(controlApi(e), "objectRequest", [{ objectId: "nope", method: "GET", path: "/" }]),
    ).rejects.toMatchObject({ name: "ValidationError" });
  });

  it("writes SQL to a live object through its worker, and to a hibernating one on its file", async () => {
    const e = await start("kitchen");
    await request(e, "POST", "/count/w");
    await until(
      async () => (await request(e, "GET", "/audit/w")).body.includes("count.changed"),
      "count.changed in the audit log",
    );
    const audit = await idOf(e, "Audit", "log-w");
    const insert = (id: number): string => `INSERT INTO seen VALUES (${id}, 'by hand', 7)`;
    expect((await controlApi(e).getObject(audit))?.state).not.toBe("Hibernating");

    // Live: the write runs in the object's worker, which sees it at once.
    await expect(controlApi(e).query({ objectId: audit, sql: insert(999) })).rejects.toThrow(/unlock writes/);
    expect((await controlApi(e).writeSql({ objectId: audit, sql: insert(999) })).rowsWritten).toBe(1);
    expect((await request(e, "GET", "/audit/w")).json).toContainEqual({
      event_id: 999,
      topic: "by hand",
      value: 7,
    });
    expect((await controlApi(e).getObject(audit))?.state).not.toBe("Hibernating");
    // A statement the object's own cached statements depend on does not leave them stale.
    await controlApi(e).writeSql({ objectId: audit, sql: "DELETE FROM seen WHERE event_id = 999" });
    expect((await request(e, "GET", "/audit/w")).json).not.toContainEqual(
      expect.objectContaining({ event_id: 999 }),
    );

    // Hibernating: the write goes to the file, and the object sees it when it wakes.
    await hibernated(e, audit);
    expect((await controlApi(e).writeSql({ objectId: audit, sql: insert(998) })).rowsWritten).toBe(1);
    const read = await controlApi(e).query({
      objectId: audit,
      sql: "SELECT topic, value FROM seen WHERE event_id = 998",
    });
    expect(read.rows).toEqual([["by hand", 7]]);
    expect((await request(e, "GET", "/audit/w")).json).toContainEqual({
      event_id: 998,
      topic: "by hand",
      value: 7,
    });

    // SQL errors reach the caller; malformed calls are refused before they reach the object.
    await expect(
      controlApi(e).writeSql({ objectId: audit, sql: "INSERT INTO nope VALUES (1)" }),
    ).rejects.toThrow(/no such table: nope/);
    await expect(
      dispatch(controlApi(e), "query", [{ objectId: audit, sql: insert(1), allowWrites: true }]),
    ).rejects.toMatchObject({ name: "ValidationError" });
  });
});
